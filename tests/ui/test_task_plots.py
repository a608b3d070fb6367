"""The task tabs' painted bars."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop_app.core.tasks.classify import Classification
from desktop_app.ui.tasks.plots import ProbabilityBars


def test_a_classification_draws_its_bars(qtbot: QtBot) -> None:
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    result = Classification("t", "yes", {"yes": 0.75, "no": 0.25})
    bars.set_probabilities(result.probabilities)
    bars.resize(300, bars.sizeHint().height())
    image = bars.grab().toImage()
    row = bars.fontMetrics().height() + 8
    # Along the first bar's middle: filled to about three quarters of the track.
    y = 2 + row // 2
    filled = [x for x in range(bars.width()) if image.pixelColor(x, y).name() == "#2c728e"]
    assert filled, "the most likely label's bar is drawn"
    assert "yes 75%" in bars.accessibleDescription()
