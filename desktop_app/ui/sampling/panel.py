"""The sampling panel: the sampler's settings, and what they do to a selected token.

Controls are built from the bounds in ``SamplingParams`` (``param_bounds()``), so
the panel cannot offer a value the engine would refuse. When a token of a reply is
selected, its stored candidates are run through the chain again with the panel's
current values on every change (``pipeline()`` on at most fifty numbers), so moving
a slider shows what it would have done to that token without generating again.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import annotated_types
from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import ORDER_PRESETS, SamplingParams, param_bounds, pipeline
from desktop_app.core.settings import Settings
from desktop_app.ui.sampling.chart import PipelineChart
from desktop_app.ui.sampling.explanation import (
    explain,
    general_explanation,
    newer_stage_notes,
    order_stage_label,
    param_help,
    param_label,
    percent,
)

# Parameters with a slider, in chain order, then the reply's length.
SLIDER_PARAMS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "repeat_penalty",
    "repeat_last_n",
    "max_tokens",
    "loop_stop",
)
# The newer stages' parameters, in the "More samplers" group (all off by default).
MORE_PARAMS = (
    "typical_p",
    "top_n_sigma",
    "xtc_probability",
    "xtc_threshold",
    "dynatemp_range",
    "dynatemp_exponent",
    "dry_multiplier",
    "dry_base",
    "dry_allowed_length",
    "dry_last_n",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
)
# Parameters whose slider doubles per notch: their useful values span decades.
_DOUBLING = frozenset({"max_tokens"})
# Parameters that change the distribution a token is drawn from.
CHAIN_PARAMS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "repeat_penalty",
    "repeat_last_n",
    *MORE_PARAMS,
    "order",
)


def is_remote_token(token: TokenEvent) -> bool:
    """Whether ``token`` came from a remote server (they number tokens below zero)."""
    return token.id < 0


def context_bounds() -> tuple[int, int, int]:
    """The context length's minimum, maximum and default, from the settings model."""
    info = Settings.model_fields["n_ctx"]
    lo, hi = 1, 2**31 - 1
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            lo = int(rule.ge)  # type: ignore[call-overload]
        elif isinstance(rule, annotated_types.Le):
            hi = int(rule.le)  # type: ignore[call-overload]
    return lo, hi, int(info.default)


def _setting_text(value: float | int | tuple[str, ...] | None) -> str:
    if value is None:
        return QCoreApplication.translate("SamplingPanel", "random")
    if isinstance(value, tuple):  # the sampler order
        preset = next((k for k, v in ORDER_PRESETS.items() if v == value), None)
        return preset or " → ".join(value)
    return f"{value:g}"


class _SliderSpin(QWidget):
    """A slider and a spin box showing one bounded value, kept in step with each other.

    The spin box holds the exact value; the slider moves in the value's steps, or
    by doubling for values whose useful range spans decades.
    """

    sig_value_changed = Signal(float)
    """The user changed the value (slider or spin box)."""

    def __init__(
        self,
        key: str,
        label: str,
        help_text: str,
        bounds: tuple[float, float, float],
        integer: bool,
        doubling: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.key = key
        lo, hi, step = bounds
        self.setObjectName(f"{key}_control")
        self._lo, self._hi, self._step = lo, hi, step
        self._integer = integer
        self._doubling = doubling and lo > 0
        self._decimals = 0 if integer else max(0, -math.floor(math.log10(step) + 1e-9))
        self.setAccessibleName(self.tr("{label} control").format(label=label))

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName(f"{key}_slider")
        self.slider.setAccessibleName(self.tr("{label} slider").format(label=label))
        if self._doubling:
            notches = math.ceil(math.log2(hi / lo) - 1e-9)
        else:
            notches = round((hi - lo) / step)
        self.slider.setRange(0, notches)
        self.slider.setPageStep(max(1, notches // 10))
        self.slider.setMinimumWidth(60)

        self.spin: QSpinBox | QDoubleSpinBox
        if integer:
            spin = QSpinBox(self)
            spin.setRange(int(lo), int(hi))
            spin.setSingleStep(max(1, int(step)))
            self.spin = spin
        else:
            dspin = QDoubleSpinBox(self)
            dspin.setDecimals(self._decimals)
            dspin.setRange(lo, hi)
            dspin.setSingleStep(step)
            self.spin = dspin
        self.spin.setAccessibleName(label)
        self.spin.setObjectName(f"{key}_spin")
        # Typed values apply on Enter or when leaving the box, so a half-typed
        # "0." does not re-rank the chart as temperature 0.
        self.spin.setKeyboardTracking(False)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)

        tip = f"{help_text} ({lo:g}–{hi:g})"
        for widget in (self, self.slider, self.spin):
            widget.setToolTip(tip)
            widget.setAccessibleDescription(help_text)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, stretch=1)
        layout.addWidget(self.spin)

        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.spin.valueChanged.connect(self._on_spin_value_changed)

    def value(self) -> float:
        """The exact value in the spin box."""
        return float(self.spin.value())

    def set_value(self, value: float) -> None:
        """Show ``value`` without reporting it as a user change."""
        with QSignalBlocker(self.spin), QSignalBlocker(self.slider):
            if isinstance(self.spin, QSpinBox):
                self.spin.setValue(round(value))
            else:
                self.spin.setValue(value)
            self.slider.setValue(self._notch(value))

    def _notch(self, value: float) -> int:
        if self._doubling:
            return round(math.log2(max(value, self._lo) / self._lo))
        return round((value - self._lo) / self._step)

    def _value_at(self, notch: int) -> float:
        if self._doubling:
            return min(self._hi, self._lo * 2.0**notch)
        return round(self._lo + notch * self._step, self._decimals)

    @Slot(int)
    def _on_slider_value_changed(self, notch: int) -> None:
        # The spin box reports the change; that keeps one path for both.
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(self._value_at(notch)))
        else:
            self.spin.setValue(self._value_at(notch))

    @Slot()
    def _on_spin_value_changed(self) -> None:
        value = self.value()
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._notch(value))
        self.sig_value_changed.emit(value)


class SamplingPanel(QDockWidget):
    """The sampler's settings, and the chain drawn on the token selected in a reply.

    The panel only holds values and reports them; whoever owns the settings
    listens to ``sig_params_changed`` and ``sig_n_ctx_changed``.
    """

    sig_params_changed = Signal(object)
    """The sampling values changed (a ``SamplingParams``)."""

    sig_n_ctx_changed = Signal(int)
    """The context length changed (tokens); it applies from the next model load."""

    def __init__(
        self,
        params: SamplingParams | None = None,
        n_ctx: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Sampling"))
        self.setObjectName("sampling_panel")
        self.setAccessibleName(self.tr("Sampling panel"))
        self._params = params if params is not None else SamplingParams()
        self._ctx_min, self._ctx_max, self._ctx_default = context_bounds()
        self._n_ctx = self._ctx_default if n_ctx is None else n_ctx
        self._token: TokenEvent | None = None
        self._history: tuple[int, ...] = ()
        self._history_text: dict[int, str] = {}
        self._generated_with: SamplingParams | None = None
        self._controls: dict[str, _SliderSpin] = {}

        self._build()
        self._show_values()
        self._refresh()

    # ----------------------------------------------------------------- building

    def _build(self) -> None:
        body = QWidget(self)
        body.setAccessibleName(self.tr("Sampling settings and chart"))
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 8)

        bounds = param_bounds()
        chain = QGroupBox(self.tr("Sampler chain"), body)
        chain.setAccessibleName(self.tr("Sampler chain"))
        chain_grid = QGridLayout(chain)
        reply = QGroupBox(self.tr("Reply"), body)
        reply.setAccessibleName(self.tr("Reply settings"))
        reply_grid = QGridLayout(reply)
        more = QGroupBox(self.tr("More samplers"), body)
        more.setAccessibleName(self.tr("More samplers"))
        more.setToolTip(self.tr("Each is off at its default; llama.cpp's definitions."))
        more_grid = QGridLayout(more)
        for name in (*SLIDER_PARAMS, *MORE_PARAMS):
            if name in MORE_PARAMS:
                grid = more_grid
            else:
                grid = chain_grid if name in CHAIN_PARAMS else reply_grid
            meta = bounds[name]
            control = _SliderSpin(
                name,
                param_label(name),
                param_help(name),
                (float(meta["min"]), float(meta["max"]), float(meta["step"])),
                integer=isinstance(getattr(SamplingParams(), name), int),
                doubling=name in _DOUBLING,
                parent=grid.parentWidget(),
            )
            control.sig_value_changed.connect(self._on_control_value_changed)
            self._controls[name] = control
            self._add_row(grid, param_label(name), param_help(name), control)

        seed = bounds["seed"]
        self._seed_random = QCheckBox(self.tr("Random"), reply)
        self._seed_random.setObjectName("seed_random")
        self._seed_random.setAccessibleName(self.tr("Random seed"))
        self._seed_random.setToolTip(self.tr("Pick a new seed for every reply."))
        self._seed_spin = QDoubleSpinBox(reply)  # a seed reaches 2**32 - 1, past QSpinBox
        self._seed_spin.setObjectName("seed_spin")
        self._seed_spin.setAccessibleName(param_label("seed"))
        self._seed_spin.setAccessibleDescription(param_help("seed"))
        self._seed_spin.setToolTip(param_help("seed"))
        self._seed_spin.setDecimals(0)
        self._seed_spin.setRange(float(seed["min"]), float(seed["max"]))
        self._seed_spin.setKeyboardTracking(False)
        self._seed_spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        seed_row = QWidget(reply)
        seed_row.setAccessibleName(self.tr("Seed control"))
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        seed_layout.addWidget(self._seed_random)
        seed_layout.addWidget(self._seed_spin, stretch=1)
        self._add_row(reply_grid, param_label("seed"), param_help("seed"), seed_row)
        self._seed_random.toggled.connect(self._on_seed_random_toggled)
        self._seed_spin.valueChanged.connect(self._on_seed_spin_value_changed)

        ctx_label = self.tr("Context length")
        ctx_help = self.tr(
            "Tokens the model can see at once; applies when the model is loaded again."
        )
        self._ctx_control = _SliderSpin(
            "n_ctx",
            ctx_label,
            ctx_help,
            (float(self._ctx_min), float(self._ctx_max), 1.0),
            integer=True,
            doubling=True,
            parent=reply,
        )
        self._ctx_control.sig_value_changed.connect(self._on_ctx_control_value_changed)
        self._add_row(reply_grid, ctx_label, ctx_help, self._ctx_control)

        self._reset_button = QPushButton(self.tr("Reset to defaults"), body)
        self._reset_button.setObjectName("reset_button")
        self._reset_button.setAccessibleName(self.tr("Reset to defaults"))
        self._reset_button.setToolTip(
            self.tr("Put every sampling value and the context length back.")
        )
        self._reset_button.clicked.connect(self._on_reset_button_clicked)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(self._reset_button)

        token_box = QGroupBox(self.tr("Selected token"), body)
        token_box.setAccessibleName(self.tr("Selected token"))
        token_layout = QVBoxLayout(token_box)
        self._generated_label = QLabel(token_box)
        self._generated_label.setObjectName("generated_with")
        self._generated_label.setAccessibleName(self.tr("Generated with"))
        self._generated_label.setWordWrap(True)
        self._generated_label.setTextFormat(Qt.TextFormat.RichText)
        self._generated_label.linkActivated.connect(self._on_generated_label_link_activated)
        self._generated_label.setVisible(False)
        self._chart = PipelineChart(token_box)
        self._chart.setObjectName("pipeline_chart")
        self._explain_title = QLabel(f"<b>{self.tr('How sampling works')}</b>", token_box)
        self._explain_title.setTextFormat(Qt.TextFormat.RichText)
        self._explain_title.setAccessibleName(self.tr("How sampling works heading"))
        self._explanation = QLabel(token_box)
        self._explanation.setObjectName("explanation")
        self._explanation.setAccessibleName(self.tr("How sampling works"))
        self._explanation.setTextFormat(Qt.TextFormat.RichText)
        self._explanation.setWordWrap(True)
        self._explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        token_layout.addWidget(self._generated_label)
        token_layout.addWidget(self._chart)
        token_layout.addSpacing(4)
        token_layout.addWidget(self._explain_title)
        token_layout.addWidget(self._explanation)

        order_box = self._build_order(body)

        layout.addWidget(chain)
        layout.addWidget(more)
        layout.addWidget(order_box)
        layout.addWidget(reply)
        layout.addLayout(reset_row)
        layout.addWidget(token_box)
        layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setAccessibleName(self.tr("Sampling panel contents"))
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def _build_order(self, parent: QWidget) -> QGroupBox:
        """The sampler order: a preset, and the stages in a list moved with Up and Down."""
        box = QGroupBox(self.tr("Sampler order"), parent)
        box.setAccessibleName(self.tr("Sampler order"))
        grid = QGridLayout(box)
        self._order_preset = QComboBox(box)
        self._order_preset.setObjectName("order_preset")
        self._order_preset.setAccessibleName(self.tr("Sampler order preset"))
        self._order_preset.addItem(self.tr("Glassbox (temperature early)"), "glassbox")
        self._order_preset.addItem(self.tr("llama.cpp (temperature last)"), "llama.cpp")
        self._order_preset.addItem(self.tr("Custom"), "custom")
        self._order_preset.setToolTip(
            self.tr("The order the stages run in; a stage that is off changes nothing.")
        )
        self._order_list = QListWidget(box)
        self._order_list.setObjectName("order_list")
        self._order_list.setAccessibleName(self.tr("Sampler stages, in order"))
        self._order_list.setToolTip(self.tr("Select a stage and move it with Up or Down."))
        self._order_list.setMaximumHeight(150)
        self._order_up = QPushButton(self.tr("Up"), box)
        self._order_up.setObjectName("order_up")
        self._order_up.setAccessibleName(self.tr("Move the stage up"))
        self._order_down = QPushButton(self.tr("Down"), box)
        self._order_down.setObjectName("order_down")
        self._order_down.setAccessibleName(self.tr("Move the stage down"))
        buttons = QVBoxLayout()
        buttons.addWidget(self._order_up)
        buttons.addWidget(self._order_down)
        buttons.addStretch(1)
        grid.addWidget(self._order_preset, 0, 0, 1, 2)
        grid.addWidget(self._order_list, 1, 0)
        grid.addLayout(buttons, 1, 1)
        grid.setColumnStretch(0, 1)
        self._order_preset.activated.connect(self._on_order_preset_activated)
        self._order_up.clicked.connect(self._on_order_up_clicked)
        self._order_down.clicked.connect(self._on_order_down_clicked)
        return box

    def _show_order(self) -> None:
        order = self._params.order
        preset = next((k for k, v in ORDER_PRESETS.items() if v == order), "custom")
        with QSignalBlocker(self._order_preset), QSignalBlocker(self._order_list):
            self._order_preset.setCurrentIndex(self._order_preset.findData(preset))
            row = self._order_list.currentRow()
            self._order_list.clear()
            for name in order:
                item = QListWidgetItem(order_stage_label(name))
                item.setData(Qt.ItemDataRole.UserRole, name)
                self._order_list.addItem(item)
            self._order_list.setCurrentRow(row)

    def _move_stage(self, delta: int) -> None:
        row = self._order_list.currentRow()
        target = row + delta
        order = list(self._params.order)
        if row < 0 or not 0 <= target < len(order):
            return
        order[row], order[target] = order[target], order[row]
        self._change(order=tuple(order))
        self._show_order()
        self._order_list.setCurrentRow(target)

    def _add_row(self, grid: QGridLayout, label: str, help_text: str, control: QWidget) -> None:
        row = grid.rowCount()
        caption = QLabel(label, grid.parentWidget())
        caption.setAccessibleName(self.tr("{label} label").format(label=label))
        caption.setToolTip(help_text)
        caption.setBuddy(control)
        grid.addWidget(caption, row, 0)
        grid.addWidget(control, row, 1)
        grid.setColumnStretch(1, 1)

    # ----------------------------------------------------------------- public

    def params(self) -> SamplingParams:
        """The sampling values shown now."""
        return self._params

    def set_params(self, params: SamplingParams) -> None:
        """Show ``params``; emits ``sig_params_changed`` once if anything changed."""
        changed = params != self._params
        self._params = params
        self._show_values()
        self._refresh()
        if changed:
            self.sig_params_changed.emit(params)

    def n_ctx(self) -> int:
        """The context length shown now (tokens)."""
        return self._n_ctx

    def set_n_ctx(self, n_ctx: int) -> None:
        """Show ``n_ctx``; emits ``sig_n_ctx_changed`` once if it changed.

        Raises InvalidRequestError when it is outside what the settings allow.
        """
        if not self._ctx_min <= n_ctx <= self._ctx_max:
            raise InvalidRequestError(
                f"Context length must be between {self._ctx_min} and {self._ctx_max}, not {n_ctx}."
            )
        changed = n_ctx != self._n_ctx
        self._n_ctx = n_ctx
        self._ctx_control.set_value(n_ctx)
        if changed:
            self.sig_n_ctx_changed.emit(n_ctx)

    def show_token(
        self,
        token: TokenEvent | None,
        history: Sequence[int] = (),
        generated_with: SamplingParams | None = None,
        history_text: Mapping[int, str] | None = None,
    ) -> None:
        """Draw the chain on ``token``'s stored candidates (None: nothing selected).

        ``history`` holds the token ids before it, for the repeat penalty and DRY
        (``history_text`` their texts, for DRY's sequence breakers);
        ``generated_with`` the settings it was drawn with, shown when they differ.
        """
        self._token = token if token is not None and token.candidates else None
        self._history = tuple(history)
        self._history_text = dict(history_text or {})
        self._generated_with = generated_with
        self._refresh()

    def chart(self) -> PipelineChart:
        """The pipeline chart (read its ``stages()`` to see what it draws)."""
        return self._chart

    def explanation(self) -> str:
        """The 'How sampling works' text shown now (rich text)."""
        return self._explanation.text()

    # ----------------------------------------------------------------- state

    def _show_values(self) -> None:
        p = self._params
        for name, control in self._controls.items():
            control.set_value(float(getattr(p, name)))
        with QSignalBlocker(self._seed_random), QSignalBlocker(self._seed_spin):
            self._seed_random.setChecked(p.seed is None)
            if p.seed is not None:
                self._seed_spin.setValue(float(p.seed))
            self._seed_spin.setEnabled(p.seed is not None)
        self._ctx_control.set_value(self._n_ctx)
        self._show_order()
        # Mirostat stands in for the truncating stages: its own settings apply only when on.
        for name in ("mirostat_tau", "mirostat_eta"):
            self._controls[name].setEnabled(p.mirostat != 0)
        for name in ("dry_base", "dry_allowed_length", "dry_last_n"):
            self._controls[name].setEnabled(p.dry_multiplier > 0)
        self._controls["xtc_threshold"].setEnabled(p.xtc_probability > 0)
        self._controls["dynatemp_exponent"].setEnabled(p.dynatemp_range > 0)

    def _change(self, **values: Any) -> None:
        params = replace(self._params, **values)
        if params == self._params:
            return
        self._params = params
        self._refresh()
        self.sig_params_changed.emit(params)

    def _refresh(self) -> None:
        """Re-rank the selected token's candidates with the values shown now."""
        token = self._token
        if token is None:
            self._chart.setVisible(True)
            self._chart.clear()
            self._explanation.setText(general_explanation())
            self._generated_label.setVisible(False)
            return
        if is_remote_token(token):
            self._show_remote(token)
            return
        self._chart.setVisible(True)
        p = self._params
        cands = token.candidates
        position = {c.id: i for i, c in enumerate(cands)}
        window = self._history[-p.repeat_last_n :] if p.repeat_last_n else ()
        recent = [position[t] for t in window if t in position]
        texts_of = {**self._history_text, **{c.id: c.text for c in cands}}
        stages = pipeline(
            [c.logit for c in cands],
            p,
            recent,
            token_ids=[c.id for c in cands],
            context=self._history,
            token_text=lambda t: texts_of.get(t, ""),
        )
        texts = [c.text for c in cands]
        drawn = position.get(token.id)
        self._chart.set_data(texts, stages, drawn)

        differs = self._differences()
        note = ""
        if drawn is None:
            # Events always list the drawn token; stored data from elsewhere may not.
            raw = stages[0].probs
            focus = max(range(len(raw)), key=lambda i: (raw[i], -i))
            note = (
                self.tr(
                    "The drawn token is not among the stored candidates; here is the favourite."
                )
                + "<br>"
            )
        else:
            focus = drawn
        self._explanation.setText(
            note
            + explain(
                texts,
                stages,
                focus,
                p,
                penalised=len(set(recent)) if p.repeat_penalty != 1.0 else 0,
                coverage=sum(c.p_raw for c in cands),
                generated_p=token.p if differs and drawn is not None else None,
            )
            + "".join(
                f"<br><small>{html.escape(n)}</small>"
                for n in newer_stage_notes(stages, p, len(self._history))
            )
        )
        if differs:
            self._generated_label.setText(
                self.tr(
                    "Generated with {settings}. The chart shows the current settings. <a href='use'>Use those</a>"  # noqa: E501
                ).format(settings=", ".join(differs))
            )
        self._generated_label.setVisible(bool(differs))

    def _show_remote(self, token: TokenEvent) -> None:
        """A token from a remote server: its alternatives, and why there is no chain."""
        self._chart.clear()
        self._chart.setVisible(False)
        self._generated_label.setVisible(False)
        rows = "".join(
            f"<tr><td>{html.escape(repr(c.text))}</td>"
            f"<td align='right'>&nbsp;{html.escape(percent(c.p_raw))}</td></tr>"
            for c in token.candidates
        )
        self._explanation.setText(
            "<p>"
            + html.escape(
                self.tr(
                    "Sampler stages are not available from a remote server: it sends only the probabilities of its top alternatives, and applies its own sampler to them. Here they are, as the server sent them."  # noqa: E501
                )
            )
            + f"</p><table>{rows}</table>"
        )

    def _differences(self) -> list[str]:
        """The chain settings the token was generated with that differ from the current ones."""
        used = self._generated_with
        if used is None:
            return []
        out = []
        for name in CHAIN_PARAMS:
            then, now = getattr(used, name), getattr(self._params, name)
            if then != now:
                label = param_label(name).lower()
                out.append(
                    self.tr("{setting} {then} (now {now})").format(
                        setting=html.escape(label),
                        then=_setting_text(then),
                        now=_setting_text(now),
                    )
                )
        return out

    # ----------------------------------------------------------------- slots

    @Slot(float)
    def _on_control_value_changed(self, value: float) -> None:
        sender = self.sender()
        if isinstance(sender, _SliderSpin):
            current = getattr(self._params, sender.key)
            self._change(**{sender.key: round(value) if isinstance(current, int) else value})

    @Slot(int)
    def _on_order_preset_activated(self, index: int) -> None:
        key = self._order_preset.itemData(index)
        if key in ORDER_PRESETS:
            self._change(order=ORDER_PRESETS[key])
        self._show_order()

    @Slot()
    def _on_order_up_clicked(self) -> None:
        self._move_stage(-1)

    @Slot()
    def _on_order_down_clicked(self) -> None:
        self._move_stage(1)

    @Slot(bool)
    def _on_seed_random_toggled(self, random: bool) -> None:
        self._seed_spin.setEnabled(not random)
        self._change(seed=None if random else round(self._seed_spin.value()))

    @Slot()
    def _on_seed_spin_value_changed(self) -> None:
        if not self._seed_random.isChecked():
            self._change(seed=round(self._seed_spin.value()))

    @Slot(float)
    def _on_ctx_control_value_changed(self, value: float) -> None:
        n_ctx = round(value)
        if n_ctx != self._n_ctx:
            self._n_ctx = n_ctx
            self.sig_n_ctx_changed.emit(n_ctx)

    @Slot()
    def _on_reset_button_clicked(self) -> None:
        self.set_params(SamplingParams())
        self.set_n_ctx(self._ctx_default)

    @Slot(str)
    def _on_generated_label_link_activated(self, _link: str) -> None:
        used = self._generated_with
        if used is not None:
            self.set_params(replace(self._params, **{n: getattr(used, n) for n in CHAIN_PARAMS}))
