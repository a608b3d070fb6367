"""The sampling panel: controls built from the bounds, and the chain re-drawn live."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import (
    Candidate,
    Sampler,
    SamplingParams,
    param_bounds,
    pipeline,
    removed_by,
)
from desktop_app.ui.sampling.chart import PipelineChart
from desktop_app.ui.sampling.explanation import HINT, percent
from desktop_app.ui.sampling.panel import SLIDER_PARAMS, SamplingPanel, context_bounds

SCREENSHOT = "/tmp/sampling_panel.png"
WORDS = [" Paris", " London", " the", " Rome", " Berlin", " a", " Madrid", "\n", " Lyon"]
GENERATED_WITH = SamplingParams(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, seed=4)


def make_token(
    seed: int = 0, n_vocab: int = 40, params: SamplingParams = GENERATED_WITH
) -> TokenEvent:
    """A token drawn by the real sampler from random logits with a few strong candidates."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.0, n_vocab).astype(np.float32) - 1.0
    logits[: len(WORDS)] = [6.0, 5.1, 4.6, 4.2, 3.6, 3.3, 3.0, 2.6, 2.2]
    step = Sampler(params, n_candidates=min(n_vocab, 50)).step(logits)
    cands = tuple(
        Candidate(i, WORDS[i] if i < len(WORDS) else f"w{i}", logit, p_raw, p_final, cut)
        for i, logit, p_raw, p_final, cut in step.candidates
    )
    text = next(c.text for c in cands if c.id == step.token)
    return TokenEvent(index=0, id=step.token, text=text, p=step.p, candidates=cands)


@pytest.fixture
def panel(qtbot: QtBot) -> SamplingPanel:
    widget = SamplingPanel()
    qtbot.addWidget(widget)
    widget.resize(420, 1150)
    return widget


def spin(panel: SamplingPanel, name: str) -> QSpinBox | QDoubleSpinBox:
    found = panel.findChild(QAbstractSpinBox, f"{name}_spin")
    assert isinstance(found, QSpinBox | QDoubleSpinBox), name
    return found


def slider(panel: SamplingPanel, name: str) -> QSlider:
    found = panel.findChild(QSlider, f"{name}_slider")
    assert isinstance(found, QSlider), name
    return found


def test_controls_have_the_bounds_of_the_parameters(panel: SamplingPanel) -> None:
    bounds = param_bounds()
    for name in [*SLIDER_PARAMS, "seed"]:
        meta = bounds[name]
        box = spin(panel, name)
        assert (box.minimum(), box.maximum()) == (meta["min"], meta["max"]), name
        assert box.accessibleName() == meta["label"]
        assert meta["help"] in box.toolTip()
    assert spin(panel, "temperature").singleStep() == bounds["temperature"]["step"]
    assert spin(panel, "top_k").singleStep() == bounds["top_k"]["step"]
    # Sliders step through the same range: one notch per step of the value.
    assert slider(panel, "temperature").maximum() == 200
    assert slider(panel, "top_p").maximum() == 100
    lo, hi, default = context_bounds()
    assert (spin(panel, "n_ctx").minimum(), spin(panel, "n_ctx").maximum()) == (lo, hi)
    assert panel.n_ctx() == default
    assert panel.params() == SamplingParams()


def test_every_widget_of_the_panel_has_an_accessible_name(panel: SamplingPanel) -> None:
    kinds = (QLabel, QSlider, QAbstractSpinBox, QCheckBox, QPushButton, QGroupBox, PipelineChart)
    ours = [w for w in panel.findChildren(QWidget) if isinstance(w, kinds)]
    assert len(ours) > 20
    assert [w for w in ours if not w.accessibleName()] == []
    assert panel.accessibleName() == "Sampling panel"
    assert panel.windowTitle() == "Sampling"


def test_a_spin_box_change_reports_the_new_params(qtbot: QtBot, panel: SamplingPanel) -> None:
    with qtbot.waitSignal(panel.sig_params_changed) as blocker:
        spin(panel, "temperature").setValue(0.5)
    assert blocker.args == [replace(SamplingParams(), temperature=0.5)]
    assert slider(panel, "temperature").value() == 50
    assert panel.params().temperature == 0.5

    with qtbot.waitSignal(panel.sig_params_changed) as blocker:
        spin(panel, "top_k").setValue(7)
    assert blocker.args[0].top_k == 7
    assert isinstance(blocker.args[0].top_k, int)


def test_a_slider_move_updates_its_spin_box_and_reports_once(
    qtbot: QtBot, panel: SamplingPanel
) -> None:
    seen: list[SamplingParams] = []
    panel.sig_params_changed.connect(seen.append)
    slider(panel, "top_p").setValue(50)
    assert spin(panel, "top_p").value() == pytest.approx(0.5)
    assert [p.top_p for p in seen] == [0.5]
    # Max tokens doubles per notch: 2**10.
    slider(panel, "max_tokens").setValue(10)
    assert spin(panel, "max_tokens").value() == 1024
    assert seen[-1].max_tokens == 1024


def test_set_params_round_trips_and_emits_once(qtbot: QtBot, panel: SamplingPanel) -> None:
    params = SamplingParams(
        temperature=1.23,
        top_k=7,
        top_p=0.5,
        min_p=0.1,
        repeat_penalty=1.3,
        repeat_last_n=32,
        seed=4_000_000_000,
        max_tokens=100,
        stop=("###",),
    )
    seen: list[SamplingParams] = []
    panel.sig_params_changed.connect(seen.append)
    panel.set_params(params)
    assert seen == [params]
    assert panel.params() == params
    assert spin(panel, "top_k").value() == 7
    assert spin(panel, "seed").value() == 4_000_000_000
    seed_random = panel.findChild(QCheckBox, "seed_random")
    assert seed_random is not None and not seed_random.isChecked()
    panel.set_params(params)
    assert len(seen) == 1  # nothing changed, nothing to report


def test_the_random_seed_box_means_no_seed(qtbot: QtBot, panel: SamplingPanel) -> None:
    seed_random = panel.findChild(QCheckBox, "seed_random")
    assert seed_random is not None and seed_random.isChecked()
    assert not spin(panel, "seed").isEnabled()
    spin(panel, "seed").setValue(99)  # disabled: remembered, not used
    assert panel.params().seed is None
    with qtbot.waitSignal(panel.sig_params_changed) as blocker:
        seed_random.setChecked(False)
    assert blocker.args[0].seed == 99
    with qtbot.waitSignal(panel.sig_params_changed) as blocker:
        seed_random.setChecked(True)
    assert blocker.args[0].seed is None


def test_context_length_is_reported_separately(qtbot: QtBot, panel: SamplingPanel) -> None:
    seen: list[SamplingParams] = []
    panel.sig_params_changed.connect(seen.append)
    with qtbot.waitSignal(panel.sig_n_ctx_changed) as blocker:
        spin(panel, "n_ctx").setValue(8192)
    assert blocker.args == [8192]
    assert panel.n_ctx() == 8192
    with qtbot.waitSignal(panel.sig_n_ctx_changed) as blocker:
        slider(panel, "n_ctx").setValue(0)
    assert blocker.args == [context_bounds()[0]]
    with qtbot.waitSignal(panel.sig_n_ctx_changed) as blocker:
        panel.set_n_ctx(2048)
    assert blocker.args == [2048] and spin(panel, "n_ctx").value() == 2048
    with pytest.raises(InvalidRequestError, match="Context length"):
        panel.set_n_ctx(100)
    assert seen == []


def test_reset_puts_the_defaults_back(qtbot: QtBot, panel: SamplingPanel) -> None:
    panel.set_params(SamplingParams(temperature=1.5, top_k=3, seed=7))
    panel.set_n_ctx(1024)
    reset = panel.findChild(QPushButton, "reset_button")
    assert reset is not None
    with qtbot.waitSignal(panel.sig_params_changed), qtbot.waitSignal(panel.sig_n_ctx_changed):
        reset.click()
    assert panel.params() == SamplingParams()
    assert panel.n_ctx() == context_bounds()[2]
    assert spin(panel, "temperature").value() == SamplingParams().temperature


def test_without_a_token_the_chart_shows_the_hint(qtbot: QtBot, panel: SamplingPanel) -> None:
    panel.show()
    chart = panel.chart()
    assert chart.stages() == ()
    assert chart.accessibleDescription() == HINT
    assert "temperature" in panel.explanation()
    panel.show_token(make_token())
    assert chart.stages()
    panel.show_token(None)
    assert chart.stages() == () and chart.rows() == ()
    assert not panel.grab().isNull()


def test_the_chart_shows_the_stored_distribution_under_the_same_settings(
    panel: SamplingPanel,
) -> None:
    """Candidates that cover the whole vocabulary re-rank to exactly what the sampler did."""
    token = make_token(n_vocab=40)
    panel.set_params(GENERATED_WITH)
    panel.show_token(token, generated_with=GENERATED_WITH)
    stages = panel.chart().stages()
    assert [s.name for s in stages] == ["raw", "temperature", "top_k", "top_p", "min_p"]
    assert list(stages[-1].probs) == pytest.approx([c.p_final for c in token.candidates], abs=1e-6)
    assert removed_by(stages) == [c.removed_by for c in token.candidates]
    drawn = [c.id for c in token.candidates].index(token.id)
    assert drawn in panel.chart().rows()
    assert len(panel.chart().rows()) <= 11
    generated = panel.findChild(QLabel, "generated_with")
    assert generated is not None and generated.isHidden()
    assert f"was drawn with {percent(token.p)}" in panel.explanation()


def test_moving_a_control_re_ranks_the_selected_token(qtbot: QtBot, panel: SamplingPanel) -> None:
    token = make_token(seed=3)
    panel.show_token(token, generated_with=GENERATED_WITH)
    chart = panel.chart()
    before = chart.stages()
    text_before = panel.explanation()
    assert "Top-k 40 keeps all 40 candidates" in text_before

    spin(panel, "top_k").setValue(2)
    after = chart.stages()
    assert after != before
    assert sum(after[-1].kept) <= 2
    assert "Top-k 2 keeps 2 of 40 candidates" in panel.explanation()
    assert "top-k 40 (now 2)" in panel.findChild(QLabel, "generated_with").text()

    slider(panel, "temperature").setValue(150)
    hotter = chart.stages()
    assert hotter[1].setting == "1.5"
    assert max(hotter[1].probs) < max(after[1].probs)  # flatter
    assert "Temperature 1.5 flattens" in panel.explanation()

    logits = [c.logit for c in token.candidates]
    assert chart.stages() == tuple(pipeline(logits, panel.params()))
    assert "percent" in chart.accessibleDescription()


def test_greedy_puts_everything_on_the_favourite(panel: SamplingPanel) -> None:
    token = make_token(seed=5)
    panel.show_token(token, generated_with=GENERATED_WITH)
    spin(panel, "temperature").setValue(0.0)
    last = panel.chart().stages()[-1]
    assert sorted(last.probs)[-1] == 1.0 and sum(last.kept) == 1
    assert "greedy" in panel.explanation()


def test_the_penalty_uses_the_tokens_before(panel: SamplingPanel) -> None:
    token = make_token(seed=1)
    favourite = token.candidates[0]
    panel.set_params(replace(GENERATED_WITH, repeat_penalty=1.5))
    panel.show_token(token, history=[favourite.id, 999_999], generated_with=GENERATED_WITH)
    stages = panel.chart().stages()
    assert [s.name for s in stages][:2] == ["raw", "penalty"]
    assert stages[1].probs[0] < stages[0].probs[0]
    assert "lowers 1 recently used candidate;" in panel.explanation()
    # The window of the penalty decides what counts as recent.
    panel.set_params(replace(panel.params(), repeat_last_n=1))
    assert panel.chart().stages()[1].probs[0] == pytest.approx(stages[0].probs[0])


def test_use_those_settings_link_applies_the_generation_settings(
    qtbot: QtBot, panel: SamplingPanel
) -> None:
    panel.set_params(SamplingParams(temperature=1.2, top_k=5, max_tokens=99))
    panel.show_token(make_token(), generated_with=GENERATED_WITH)
    label = panel.findChild(QLabel, "generated_with")
    assert label is not None and not label.isHidden()
    with qtbot.waitSignal(panel.sig_params_changed) as blocker:
        label.linkActivated.emit("use")
    params = blocker.args[0]
    assert (params.temperature, params.top_k, params.max_tokens) == (0.8, 40, 99)
    assert label.isHidden()


def test_the_panel_renders_in_light_and_dark_palettes(qtbot: QtBot, panel: SamplingPanel) -> None:
    panel.set_params(replace(GENERATED_WITH, temperature=0.7, top_p=0.9, repeat_penalty=1.1))
    token = make_token(seed=2)
    panel.show_token(
        token, history=[c.id for c in token.candidates[1:3]], generated_with=GENERATED_WITH
    )
    panel.show()
    qtbot.waitExposed(panel)
    # Everything fits a dock of this width: no horizontal scroll bar once laid out.
    scroll = panel.widget()
    assert isinstance(scroll, QScrollArea)
    qtbot.waitUntil(lambda: not scroll.horizontalScrollBar().isVisible())
    light = panel.grab()
    assert not light.isNull() and light.width() == 420
    assert light.save(SCREENSHOT)

    dark = QPalette(panel.palette())
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d8ee6"),
    ):
        dark.setColor(role, QColor(colour))
    panel.setPalette(dark)
    image = panel.chart().grab().toImage()
    # The chart's text follows the palette: light pixels appear on the dark background.
    bright = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if QColor(image.pixel(x, y)).lightness() > 180
    )
    assert bright > 50
    assert panel.chart().grab().save(SCREENSHOT.replace(".png", "_dark.png"))


def test_a_token_missing_from_its_candidates_is_explained_on_the_favourite(
    panel: SamplingPanel,
) -> None:
    token = make_token(seed=4)
    stripped = replace(token, id=123_456)
    panel.show_token(stripped, generated_with=GENERATED_WITH)
    assert panel.chart().stages()
    assert "not among the stored candidates" in panel.explanation()
    assert "‘␣Paris’" in panel.explanation()


def test_a_remote_token_shows_its_alternatives_and_says_stages_are_unavailable(
    panel: SamplingPanel,
) -> None:
    """A server sends top alternatives only: no chain is drawn, the panel says why."""
    cands = (
        Candidate(-1, " Paris", math.log(0.9), 0.9, 0.9, None),
        Candidate(-2, " Lyon", math.log(0.06), 0.06, 0.06, None),
    )
    panel.show_token(TokenEvent(index=0, id=-1, text=" Paris", p=0.9, candidates=cands))
    assert not panel.chart().isVisibleTo(panel)
    assert panel.chart().stages() == ()
    text = panel.explanation()
    assert "Sampler stages are not available from a remote server" in text
    assert "&#x27; Lyon&#x27;" in text or "' Lyon'" in text
    assert "6.0%" in text
    # A local token afterwards draws the chain again.
    panel.show_token(make_token())
    assert panel.chart().isVisibleTo(panel)
    assert len(panel.chart().stages()) > 1
