"""The pipeline chart on its own: which candidates become rows, the hint, tooltips."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot

from desktop_app.core.sampling import SamplingParams, pipeline
from desktop_app.ui.sampling.chart import CHART_ROWS, PipelineChart
from desktop_app.ui.sampling.explanation import HINT

PARAMS = SamplingParams(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05)
TEXTS = [" Paris", " London", " the", " Rome", *(f"w{i}" for i in range(16))]
LOGITS = [6.0, 5.1, 4.6, 4.2, *(1.0 - 0.1 * i for i in range(16))]


@pytest.fixture
def chart(qtbot: QtBot) -> PipelineChart:
    widget = PipelineChart()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    return widget


def test_the_likeliest_candidates_and_the_drawn_one_become_rows(chart: PipelineChart) -> None:
    stages = pipeline(LOGITS, PARAMS)
    chart.set_data(TEXTS, stages, drawn=len(TEXTS) - 1)
    assert chart.stages() == tuple(stages)
    # The ten likeliest in order, then the drawn token though it is far down the list.
    assert chart.rows() == (*range(CHART_ROWS), len(TEXTS) - 1)
    assert "Drawn token ‘w15’." in chart.accessibleDescription()
    chart.clear()
    assert chart.stages() == () and chart.rows() == ()
    assert chart.accessibleDescription() == HINT


def test_hovering_a_cell_names_the_candidate_and_the_stage(
    qtbot: QtBot, chart: PipelineChart
) -> None:
    chart.set_data(TEXTS, pipeline(LOGITS, PARAMS), drawn=0)
    chart.show()
    qtbot.waitExposed(chart)
    row_h, header_h, _, _ = chart._metrics()
    left, width = chart._stage_x(1)
    text = chart._tooltip_at(QPoint(left + width // 2, header_h + row_h // 2))
    assert text.startswith("‘␣Paris’ after Temperature 0.8:")
    assert chart._tooltip_at(QPoint(left + 2, 2)) == "Temperature 0.8"
    assert not chart.grab().isNull()
