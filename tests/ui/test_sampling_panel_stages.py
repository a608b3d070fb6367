"""The sampling panel's newer samplers: their sliders, the order editor, and the chart."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.sampling import (
    DEFAULT_ORDER,
    LLAMA_CPP_ORDER,
    SamplingParams,
    param_bounds,
    pipeline,
)
from desktop_app.ui.sampling.panel import MORE_PARAMS, SamplingPanel
from tests.ui.test_sampling_panel import GENERATED_WITH, make_token

SCREENSHOT = "/tmp/sampling_panel_stages.png"


def child(panel: SamplingPanel, name: str) -> Any:
    found = panel.findChild(QWidget, name)
    assert found is not None, name
    return found


def make_panel(qtbot: QtBot, params: SamplingParams = GENERATED_WITH) -> SamplingPanel:
    panel = SamplingPanel(params)
    qtbot.addWidget(panel)
    panel.resize(520, 1600)
    panel.show()
    return panel


def test_every_newer_parameter_has_a_control_within_its_bounds(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    bounds = param_bounds()
    for name in MORE_PARAMS:
        control = child(panel, f"{name}_control")
        assert control is not None, name
        spin = control.spin
        assert (spin.minimum(), spin.maximum()) == (bounds[name]["min"], bounds[name]["max"])


def test_moving_a_slider_reranks_the_selected_token_with_the_new_stage(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    token = make_token()
    panel.show_token(token)
    with qtbot.waitSignal(panel.sig_params_changed) as changed:
        child(panel, "typical_p_control").spin.setValue(0.5)
    assert changed.args[0].typical_p == 0.5
    names = [s.name for s in panel.chart().stages()]
    assert "typical_p" in names
    want = pipeline([c.logit for c in token.candidates], panel.params())
    assert [s.probs for s in panel.chart().stages()] == [s.probs for s in want]
    assert "Typical-p 0.5 removes" in panel.explanation()


def test_the_order_editor_offers_llama_cpp_and_moves_stages(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    preset = child(panel, "order_preset")
    order_list = child(panel, "order_list")
    assert preset.currentData() == "glassbox"
    with qtbot.waitSignal(panel.sig_params_changed):
        preset.activated.emit(preset.findData("llama.cpp"))
    assert panel.params().order == LLAMA_CPP_ORDER
    shown = [order_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(order_list.count())]
    assert tuple(shown) == LLAMA_CPP_ORDER
    order_list.setCurrentRow(8)  # temperature
    child(panel, "order_up").click()
    assert panel.params().order[7] == "temperature"
    assert preset.currentData() == "custom"
    assert order_list.currentRow() == 7
    # The chart draws the stages in the new order.
    panel.show_token(make_token())
    names = [s.name for s in panel.chart().stages()]
    assert names.index("temperature") > names.index("top_p")


def test_history_bound_stages_say_what_they_need(qtbot: QtBot) -> None:
    panel = make_panel(qtbot, replace(GENERATED_WITH, dry_multiplier=0.8, mirostat=2))
    assert child(panel, "dry_base_control").isEnabled()
    token = make_token()
    ids = [c.id for c in token.candidates]
    # "A B A": the candidate B would repeat "A B"; DRY cuts it in the chart.
    panel.show_token(token, history=[ids[0], ids[1], ids[2], ids[0], ids[1]])
    text = panel.explanation()
    assert "DRY needs the tokens before this one" in text and "5 earlier tokens" in text
    assert "target μ moves with every token" in text
    stages = {s.name: s for s in panel.chart().stages()}
    assert stages["dry"].probs[2] < stages["raw"].probs[2]
    scroll = panel.widget()
    assert isinstance(scroll, QScrollArea)
    body = scroll.widget()
    assert body is not None
    body.grab().save(SCREENSHOT)


def test_mirostat_settings_are_enabled_only_with_mirostat_on(qtbot: QtBot) -> None:
    panel = make_panel(qtbot)
    tau = child(panel, "mirostat_tau_control")
    assert not tau.isEnabled()
    panel.set_params(replace(panel.params(), mirostat=1))
    assert tau.isEnabled()
    panel.set_params(SamplingParams())
    assert panel.params().order == DEFAULT_ORDER and not tau.isEnabled()
