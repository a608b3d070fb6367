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
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Any

import annotated_types
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QPoint,
    QRect,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import PipelineStage, SamplingParams, param_bounds, pipeline
from desktop_app.core.settings import Settings

# Parameters with a slider, in chain order, then the reply's length.
SLIDER_PARAMS = (
    "temperature",
    "top_k",
    "top_p",
    "min_p",
    "repeat_penalty",
    "repeat_last_n",
    "max_tokens",
)
# Parameters whose slider doubles per notch: their useful values span decades.
_DOUBLING = frozenset({"max_tokens"})
# Parameters that change the distribution a token is drawn from.
CHAIN_PARAMS = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n")

CHART_ROWS = 10
# The hint's English source text; the window shows it translated, through ``hint()``.
HINT = "Select a token in a reply to see how it was drawn."


def hint() -> str:
    """What the chart says when no token is selected."""
    return QCoreApplication.translate(
        "SamplingPanel", "Select a token in a reply to see how it was drawn."
    )


def is_remote_token(token: TokenEvent) -> bool:
    """Whether ``token`` came from a remote server (they number tokens below zero)."""
    return token.id < 0


def _general_explanation() -> str:
    return QCoreApplication.translate(
        "SamplingPanel",
        "The model gives every token in its vocabulary a score. The sampler turns the scores into probabilities and reshapes them in this order: the <b>repeat penalty</b> lowers recently used tokens, <b>temperature</b> sharpens (below 1) or flattens (above 1) the distribution, <b>top-k</b> keeps the k most likely, <b>top-p</b> keeps the fewest whose probabilities add up to p, and <b>min-p</b> drops tokens far less likely than the best one. One token is drawn from what is left. Select a token in a reply to see these steps on its numbers.",  # noqa: E501
    )


def param_label(name: str) -> str:
    """The translated label of a sampling parameter (the core's English one as a fallback)."""
    labels = {
        "temperature": QCoreApplication.translate("SamplingPanel", "Temperature"),
        "top_k": QCoreApplication.translate("SamplingPanel", "Top-k"),
        "top_p": QCoreApplication.translate("SamplingPanel", "Top-p"),
        "min_p": QCoreApplication.translate("SamplingPanel", "Min-p"),
        "repeat_penalty": QCoreApplication.translate("SamplingPanel", "Repeat penalty"),
        "repeat_last_n": QCoreApplication.translate("SamplingPanel", "Penalty window"),
        "seed": QCoreApplication.translate("SamplingPanel", "Seed"),
        "max_tokens": QCoreApplication.translate("SamplingPanel", "Max tokens"),
    }
    return labels.get(name) or str(param_bounds()[name]["label"])


def param_help(name: str) -> str:
    """The translated help text of a sampling parameter."""
    texts = {
        "temperature": QCoreApplication.translate(
            "SamplingPanel", "0 is greedy; higher flattens the distribution."
        ),
        "top_k": QCoreApplication.translate(
            "SamplingPanel", "Keep the k most likely tokens (0: off)."
        ),
        "top_p": QCoreApplication.translate(
            "SamplingPanel", "Keep the smallest set reaching this mass (1: off)."
        ),
        "min_p": QCoreApplication.translate(
            "SamplingPanel", "Drop tokens below this share of the top one (0: off)."
        ),
        "repeat_penalty": QCoreApplication.translate(
            "SamplingPanel", "Penalise recently used tokens (1: off)."
        ),
        "repeat_last_n": QCoreApplication.translate(
            "SamplingPanel", "How many recent tokens are penalised."
        ),
        "seed": QCoreApplication.translate(
            "SamplingPanel", "Same seed and settings give the same reply."
        ),
        "max_tokens": QCoreApplication.translate("SamplingPanel", "Longest reply, in tokens."),
    }
    return texts.get(name) or str(param_bounds()[name]["help"])


def stage_label(stage: PipelineStage) -> str:
    """A pipeline stage's translated name."""
    labels = {
        "raw": QCoreApplication.translate("SamplingPanel", "Raw"),
        "penalty": QCoreApplication.translate("SamplingPanel", "Repeat penalty"),
        "temperature": QCoreApplication.translate("SamplingPanel", "Temperature"),
        "top_k": QCoreApplication.translate("SamplingPanel", "Top-k"),
        "top_p": QCoreApplication.translate("SamplingPanel", "Top-p"),
        "min_p": QCoreApplication.translate("SamplingPanel", "Min-p"),
    }
    return labels.get(stage.name, stage.label)


def stage_setting(stage: PipelineStage) -> str:
    """A pipeline stage's setting as shown: a number, or "greedy"/"off" translated."""
    if stage.setting == "greedy":
        return QCoreApplication.translate("SamplingPanel", "greedy")
    if stage.setting == "off":
        return QCoreApplication.translate("SamplingPanel", "off")
    return stage.setting


def _stage_title(stage: PipelineStage) -> str:
    """A stage's name and setting: "Temperature 0.8"."""
    return f"{stage_label(stage)} {stage_setting(stage)}".strip()


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


def percent(p: float) -> str:
    """A probability as the panel writes it: whole percent, finer near 0 and 1."""
    if p <= 0.0:
        return "0%"
    if p < 0.001:
        return "<0.1%"
    text = f"{p * 100:.1f}%"
    if p < 0.1 and text != "10.0%":
        return text
    text = f"{p * 100:.0f}%"
    if text == "100%" and p < 1.0:
        text = f"{p * 100:.1f}%"
        if text == "100.0%":
            text = ">99.9%"
    return text


def _visible(text: str) -> str:
    # Whitespace tokens would be invisible between quotes.
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def _quoted(text: str) -> str:
    return f"‘{_visible(text)}’"


def _setting_text(value: float | int | None) -> str:
    if value is None:
        return QCoreApplication.translate("SamplingPanel", "random")
    return f"{value:g}"


# --------------------------------------------------------------------- controls


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


# --------------------------------------------------------------------- chart


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a share ``t`` of the way towards ``b``."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def _short_label(stage: PipelineStage) -> str:
    """A stage's name for a narrow column."""
    if stage.name == "penalty":
        return QCoreApplication.translate("PipelineChart", "Pen.")
    if stage.name == "temperature":
        return QCoreApplication.translate("PipelineChart", "Temp.")
    return stage_label(stage)


def _cut_name(stage: PipelineStage) -> str:
    """What the chart writes next to the cross of the stage that removed a candidate."""
    names = {
        "temperature": QCoreApplication.translate("PipelineChart", "greedy"),
        "top_k": "top-k",
        "top_p": "top-p",
        "min_p": "min-p",
    }
    return names.get(stage.name, stage.name)


class PipelineChart(QWidget):
    """The selected token's candidates after each stage of the chain, painted as a grid.

    One row per candidate (the most likely ones before sampling, and the drawn
    token), one column per stage. A cell shows the probability and a bar on a
    0–100% scale; the stage that removed a candidate shows a cross and its name.
    Colours come from the widget's palette, so it reads in light and dark themes.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Sampling pipeline chart"))
        self.setAccessibleDescription(hint())
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._texts: tuple[str, ...] = ()
        self._stages: tuple[PipelineStage, ...] = ()
        self._drawn: int | None = None
        self._rows: tuple[int, ...] = ()
        self._others: tuple[int, ...] = ()
        self._label_need = 0  # width the rows' token labels ask for

    # ----------------------------------------------------------------- data

    def stages(self) -> tuple[PipelineStage, ...]:
        """The stages drawn now (empty when no token is shown)."""
        return self._stages

    def rows(self) -> tuple[int, ...]:
        """The candidates drawn as rows, as positions in the stages' probabilities."""
        return self._rows

    def set_data(
        self, texts: Sequence[str], stages: Sequence[PipelineStage], drawn: int | None
    ) -> None:
        """Show ``stages`` for candidates named ``texts``; ``drawn`` is the drawn one's position."""
        self._texts = tuple(texts)
        self._stages = tuple(stages)
        self._drawn = drawn
        if self._stages:
            raw = self._stages[0].probs
            by_raw = sorted(range(len(raw)), key=lambda i: (-raw[i], i))
            rows = by_raw[:CHART_ROWS]
            if drawn is not None and drawn not in rows:
                rows.append(drawn)
            self._rows = tuple(rows)
            self._others = tuple(i for i in by_raw if i not in set(rows))
        else:
            self._rows = self._others = ()
        self._measure_labels()
        self.setAccessibleDescription(self._describe())
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        """Show the hint instead of a token."""
        self.set_data((), (), None)

    def _describe(self) -> str:
        if not self._stages:
            return hint()
        parts = []
        if self._drawn is not None:
            parts.append(
                self.tr("Drawn token {token}.").format(token=_quoted(self._texts[self._drawn]))
            )
        first, last = self._stages[0], self._stages[-1]
        for stage, before in ((first, True), (last, False)):
            listed = ", ".join(
                self.tr("{token} {value} percent").format(
                    token=_quoted(self._texts[i]), value=percent(stage.probs[i]).rstrip("%")
                )
                for i in self._rows[:5]
                if stage.kept[i]
            )
            if before:
                parts.append(self.tr("Before sampling: {list}.").format(list=listed))
            else:
                parts.append(self.tr("After min-p: {list}.").format(list=listed))
        return " ".join(parts)

    # ----------------------------------------------------------------- geometry

    def _measure_labels(self) -> None:
        # Measured once per token or font, not on every paint.
        bold = QFont(self.font())
        bold.setBold(True)
        bold_fm = QFontMetrics(bold)
        self._label_need = max(
            (bold_fm.horizontalAdvance(_visible(self._texts[i])) + 8 for i in self._rows),
            default=0,
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._measure_labels()
            self.updateGeometry()
        super().changeEvent(event)

    def _metrics(self) -> tuple[int, int, int, int]:
        """Row height, header height, label column width and the 'drawn' tag width.

        The token column takes what its labels need when there is room, and
        gives way to the stage columns down to a few letters when there is not.
        """
        fm = self.fontMetrics()
        row_h = fm.height() + 9
        header_h = 2 * fm.height() + 8
        tag_w = self._tag_font_metrics().horizontalAdvance(self.tr("drawn")) + 10
        least = fm.horizontalAdvance("MMM") + 8
        needed = min(max(least, self._label_need), fm.horizontalAdvance("MMMMMMM") + 8)
        room = self.width() - tag_w - max(1, len(self._stages)) * self._least_column() - 4
        return row_h, header_h, max(least, min(needed, room)), tag_w

    def _least_column(self) -> int:
        return self.fontMetrics().horizontalAdvance("<0.1%") + 4

    def _tag_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        font.setBold(True)
        return font

    def _tag_font_metrics(self) -> QFontMetrics:
        return QFontMetrics(self._tag_font())

    def _stage_x(self, column: int) -> tuple[int, int]:
        """Left edge and width of a stage's column."""
        _, _, label_w, tag_w = self._metrics()
        n = max(1, len(self._stages))
        left = label_w + tag_w
        width = max(1, (self.width() - left - 4) // n)
        return left + column * width, width

    def sizeHint(self) -> QSize:
        row_h, header_h, _, tag_w = self._metrics()
        label_w = self.fontMetrics().horizontalAdvance("‘MMMMMMM’") + 8
        stages = max(1, len(self._stages))
        width = label_w + tag_w + stages * self.fontMetrics().horizontalAdvance("99.8%MMM")
        if not self._stages:
            return QSize(width, self.fontMetrics().height() * 4)
        lines = len(self._rows) + (1 if self._others else 0)
        return QSize(width, header_h + lines * row_h + 4)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        _, _, _, tag_w = self._metrics()
        least = fm.horizontalAdvance("MMM") + 8
        width = least + tag_w + max(1, len(self._stages)) * self._least_column() + 4
        return QSize(width, self.sizeHint().height())

    def _cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(row, column) under ``pos``; column -1 is the label, row -1 the header."""
        if not self._stages:
            return None
        row_h, header_h, label_w, tag_w = self._metrics()
        row = -1 if pos.y() < header_h else (pos.y() - header_h) // row_h
        if row >= len(self._rows) + (1 if self._others else 0):
            return None
        if pos.x() < label_w + tag_w:
            return row, -1
        left, width = self._stage_x(0)
        column = (pos.x() - left) // width
        return (row, column) if column < len(self._stages) else None

    # ----------------------------------------------------------------- painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self._stages:
                self._paint_chart(painter)
            else:
                self._paint_hint(painter)
        finally:
            painter.end()

    def _colours(self) -> dict[str, QColor]:
        pal = self.palette()
        text = pal.color(pal.ColorRole.WindowText)
        window = pal.color(pal.ColorRole.Window)
        return {
            "text": text,
            "dim": _blend(text, window, 0.45),
            "faint": _blend(text, window, 0.85),
            "track": _blend(text, window, 0.9),
            "bar": pal.color(pal.ColorRole.Highlight),
            "bar_text": pal.color(pal.ColorRole.HighlightedText),
            "others": _blend(text, window, 0.55),
        }

    def _paint_hint(self, painter: QPainter) -> None:
        painter.setPen(self._colours()["dim"])
        painter.drawText(
            self.rect().adjusted(8, 4, -8, -4),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            hint(),
        )

    def _paint_chart(self, painter: QPainter) -> None:
        colours = self._colours()
        row_h, header_h, _, _ = self._metrics()
        fm = self.fontMetrics()
        base = QFont(self.font())
        bold = QFont(base)
        bold.setBold(True)
        # Stage names in a slightly smaller bold, so "Temp." fits a narrow column.
        bold.setPointSizeF(max(6.0, base.pointSizeF() * 0.92))

        # Header: stage name, and its setting below in the dimmer colour.
        for column, stage in enumerate(self._stages):
            left, width = self._stage_x(column)
            box = QRect(left + 4, 2, width - 6, fm.height())
            painter.setFont(bold)
            bold_fm = QFontMetrics(bold)
            name = stage_label(stage)
            if bold_fm.horizontalAdvance(name) > box.width():
                name = _short_label(stage)
            name = bold_fm.elidedText(name, Qt.TextElideMode.ElideRight, box.width())
            painter.setPen(colours["text"])
            painter.drawText(box, Qt.AlignmentFlag.AlignLeft, name)
            painter.setFont(base)
            painter.setPen(colours["dim"])
            painter.drawText(
                box.translated(0, fm.height()),
                Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(stage_setting(stage), Qt.TextElideMode.ElideRight, box.width()),
            )
            if column:
                painter.setPen(QPen(colours["faint"], 1))
                painter.drawLine(left, 2, left, self.height() - 2)
        painter.setPen(QPen(colours["faint"], 1))
        painter.drawLine(0, header_h - 3, self.width(), header_h - 3)

        for line, index in enumerate(self._rows):
            top = header_h + line * row_h
            self._paint_row(painter, colours, index, top)
        if self._others:
            self._paint_others(painter, colours, header_h + len(self._rows) * row_h)

    def _paint_row(
        self, painter: QPainter, colours: dict[str, QColor], index: int, top: int
    ) -> None:
        row_h, _, label_w, tag_w = self._metrics()
        fm = self.fontMetrics()
        drawn = index == self._drawn
        survives = self._stages[-1].kept[index]
        font = QFont(self.font())
        font.setBold(drawn)
        painter.setFont(font)
        painter.setPen(colours["text"] if survives else colours["dim"])
        label = QFontMetrics(font).elidedText(
            _visible(self._texts[index]), Qt.TextElideMode.ElideRight, label_w - 6
        )
        painter.drawText(
            QRect(4, top, label_w - 4, fm.height() + 2),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            label,
        )
        if drawn:
            self._paint_drawn_tag(painter, colours, QRect(label_w, top + 2, tag_w - 6, fm.height()))
            painter.setPen(QPen(colours["bar"], 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRect(1, top - 1, self.width() - 3, row_h - 1), 4, 4)

        # A candidate the chain removes is greyed all along its row, so the
        # survivors stand out; the stage that removed it shows a cross.
        ink = colours["text"] if survives else colours["dim"]
        bar = "bar" if survives else "others"
        previous: PipelineStage | None = None
        for column, stage in enumerate(self._stages):
            left, width = self._stage_x(column)
            text_box = QRect(left + 4, top, width - 6, fm.height() + 2)
            if stage.kept[index]:
                painter.setFont(font)
                painter.setPen(ink)
                painter.drawText(text_box, Qt.AlignmentFlag.AlignLeft, percent(stage.probs[index]))
                self._paint_bar(painter, colours, left, top, width, stage.probs[index], bar)
            elif previous is None or previous.kept[index]:
                painter.setFont(self.font())
                painter.setPen(colours["dim"])
                cut = f"✕ {_cut_name(stage)}"
                if fm.horizontalAdvance(cut) > text_box.width():
                    cut = "✕"
                painter.drawText(text_box, Qt.AlignmentFlag.AlignLeft, cut)
            previous = stage

    def _paint_bar(
        self,
        painter: QPainter,
        colours: dict[str, QColor],
        left: int,
        top: int,
        width: int,
        p: float,
        colour: str = "bar",
    ) -> None:
        fm = self.fontMetrics()
        track = QRect(left + 4, top + fm.height() + 3, width - 8, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours["track"])
        painter.drawRect(track)
        if p > 0:
            painter.setBrush(colours[colour])
            painter.drawRect(QRect(track.left(), track.top(), max(1, round(track.width() * p)), 4))
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_drawn_tag(self, painter: QPainter, colours: dict[str, QColor], box: QRect) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours["bar"])
        painter.drawRoundedRect(box, 3, 3)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(self._tag_font())
        painter.setPen(colours["bar_text"])
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.tr("drawn"))

    def _paint_others(self, painter: QPainter, colours: dict[str, QColor], top: int) -> None:
        fm = self.fontMetrics()
        _, _, label_w, tag_w = self._metrics()
        italic = QFont(self.font())
        italic.setItalic(True)
        painter.setFont(italic)
        painter.setPen(colours["dim"])
        painter.drawText(
            QRect(4, top, label_w + tag_w - 4, fm.height() + 2),
            Qt.AlignmentFlag.AlignLeft,
            self.tr("{count} others").format(count=len(self._others)),
        )
        for column, stage in enumerate(self._stages):
            left, width = self._stage_x(column)
            alive = [i for i in self._others if stage.kept[i]]
            if not alive:
                continue
            mass = sum(stage.probs[i] for i in alive)
            painter.setFont(italic)
            painter.setPen(colours["dim"])
            painter.drawText(
                QRect(left + 4, top, width - 6, fm.height() + 2),
                Qt.AlignmentFlag.AlignLeft,
                percent(mass),
            )
            self._paint_bar(painter, colours, left, top, width, mass, colour="others")

    # ----------------------------------------------------------------- tooltips

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self._tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def _tooltip_at(self, pos: QPoint) -> str:
        cell = self._cell_at(pos)
        if cell is None:
            return ""
        row, column = cell
        if row < 0:
            if column < 0:
                return ""
            return _stage_title(self._stages[column])
        if row >= len(self._rows):
            return self.tr("The {count} less likely candidates together.").format(
                count=len(self._others)
            )
        index = self._rows[row]
        name = html.escape(_quoted(self._texts[index]))
        if column < 0:
            return self.tr("{token} (drawn)").format(token=name) if index == self._drawn else name
        stage = self._stages[column]
        if stage.kept[index]:
            value = f"{stage.probs[index] * 100:.2f}"
            if column:
                return self.tr("{token} after {stage}: {value}%").format(
                    token=name, stage=_stage_title(stage), value=value
                )
            return self.tr("{token} before sampling: {value}%").format(token=name, value=value)
        if column:
            return self.tr("{token} was removed (after {stage}).").format(
                token=name, stage=_stage_title(stage)
            )
        return self.tr("{token} was removed (before sampling).").format(token=name)


# --------------------------------------------------------------------- explanation


def explain(
    texts: Sequence[str],
    stages: Sequence[PipelineStage],
    drawn: int,
    params: SamplingParams,
    penalised: int = 0,
    coverage: float | None = None,
    generated_p: float | None = None,
) -> str:
    """'How sampling works', told on one token's numbers (rich text).

    ``penalised`` is how many candidates the repeat penalty lowered; ``coverage``
    the share of the model's probability the stored candidates hold; ``generated_p``
    the probability the token was really drawn with, when the settings differ.
    """
    name = f"<b>{html.escape(_quoted(texts[drawn]))}</b>"
    by = {s.name: s for s in stages}
    raw = by["raw"]
    out: list[str] = []

    top = max(range(len(raw.probs)), key=lambda i: (raw.probs[i], -i))
    if top != drawn:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "The model gave {token} {p} before sampling. Its favourite was {top} with {top_p}.",
            ).format(
                token=name,
                p=percent(raw.probs[drawn]),
                top=html.escape(_quoted(texts[top])),
                top_p=percent(raw.probs[top]),
            )
        )
    else:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "The model gave {token} {p} before sampling."
            ).format(token=name, p=percent(raw.probs[drawn]))
        )

    before = raw
    if "penalty" in by:
        pen = by["penalty"]
        if penalised == 1:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} lowers {count} recently used candidate; {token} now has {p}.",  # noqa: E501
                ).format(
                    value=f"{params.repeat_penalty:g}",
                    count=penalised,
                    token=name,
                    p=percent(pen.probs[drawn]),
                )
            )
        elif penalised:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} lowers {count} recently used candidates; {token} now has {p}.",  # noqa: E501
                ).format(
                    value=f"{params.repeat_penalty:g}",
                    count=penalised,
                    token=name,
                    p=percent(pen.probs[drawn]),
                )
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} finds none of these candidates among the last {count} tokens.",  # noqa: E501
                ).format(value=f"{params.repeat_penalty:g}", count=params.repeat_last_n)
            )
        before = pen

    temp = by["temperature"]
    t = params.temperature
    if t == 0.0:
        best = next(i for i, k in enumerate(temp.kept) if k)
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "Temperature 0 is greedy: only the most likely token, {token}, can be drawn; top-k, top-p and min-p have nothing left to do.",  # noqa: E501
            ).format(token=html.escape(_quoted(texts[best])))
        )
    else:
        if t == 1.0:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel", "Temperature 1 leaves the distribution as it is."
                )
            )
        else:
            if t < 1.0:
                sentence = QCoreApplication.translate(
                    "SamplingPanel",
                    "Temperature {value} sharpens the distribution: {token} goes from {before} to {after}.",  # noqa: E501
                )
            else:
                sentence = QCoreApplication.translate(
                    "SamplingPanel",
                    "Temperature {value} flattens the distribution: {token} goes from {before} to {after}.",  # noqa: E501
                )
            out.append(
                sentence.format(
                    value=f"{t:g}",
                    token=name,
                    before=percent(before.probs[drawn]),
                    after=percent(temp.probs[drawn]),
                )
            )
        out.extend(_truncation_sentences(by, params))

    final = stages[-1]
    p_final = percent(final.probs[drawn])
    if final.kept[drawn]:
        if generated_p is None:
            out.append(
                QCoreApplication.translate("SamplingPanel", "{token} was drawn with {p}.").format(
                    token=name, p=p_final
                )
            )
        elif percent(generated_p) == p_final:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} would be drawn with {p}, as it was.",
                ).format(token=name, p=p_final)
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} would be drawn with {p}; it was drawn with {then}.",  # noqa: E501
                ).format(token=name, p=p_final, then=percent(generated_p))
            )
    else:
        cut = next(s for prev, s in pairwise(stages) if prev.kept[drawn] and not s.kept[drawn])
        if generated_p is not None:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} could not be drawn: {stage} removes it. It was drawn with {then}.",  # noqa: E501
                ).format(token=name, stage=_stage_phrase(cut), then=percent(generated_p))
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} could not be drawn: {stage} removes it.",
                ).format(token=name, stage=_stage_phrase(cut))
            )
    # One line per stage reads as the chain it describes.
    text = "<br>".join(out)
    if coverage is not None and coverage < 0.995:
        note = QCoreApplication.translate(
            "SamplingPanel",
            "Figures are over the {count} stored candidates, which hold {p} of the model's probability.",  # noqa: E501
        ).format(count=len(raw.probs), p=percent(coverage))
        text += f"<br><small>{note}</small>"
    return text


def _stage_phrase(stage: PipelineStage) -> str:
    if stage.name == "temperature":
        return QCoreApplication.translate("SamplingPanel", "greedy decoding")
    return _stage_title(stage)


def _truncation_sentences(by: dict[str, PipelineStage], params: SamplingParams) -> list[str]:
    """What top-k, top-p and min-p each kept, in words."""
    out = []
    temp, top_k, top_p, min_p = by["temperature"], by["top_k"], by["top_p"], by["min_p"]
    total = sum(temp.kept)
    kept_k = sum(top_k.kept)
    if params.top_k == 0:
        out.append(QCoreApplication.translate("SamplingPanel", "Top-k is off."))
    elif kept_k == total:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "Top-k {k} keeps all {total} candidates."
            ).format(k=params.top_k, total=total)
        )
    else:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "Top-k {k} keeps {kept} of {total} candidates."
            ).format(k=params.top_k, kept=kept_k, total=total)
        )

    kept_p = sum(top_p.kept)
    if params.top_p >= 1.0:
        out.append(QCoreApplication.translate("SamplingPanel", "Top-p is off."))
    else:
        mass = sum(p for p, k in zip(top_k.probs, top_p.kept, strict=True) if k)
        value = f"{params.top_p:g}"
        if kept_p == kept_k:
            out.append(
                QCoreApplication.translate("SamplingPanel", "Top-p {p} keeps all {kept}.").format(
                    p=value, kept=kept_p
                )
            )
        elif kept_p == 1:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Top-p {p} keeps only the most likely one: it alone holds {mass}.",
                ).format(p=value, mass=percent(mass))
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Top-p {p} keeps the {kept} most likely, which hold {mass} together.",
                ).format(p=value, kept=kept_p, mass=percent(mass))
            )

    if params.min_p <= 0.0:
        out.append(QCoreApplication.translate("SamplingPanel", "Min-p is off."))
    else:
        best = max(p for p, k in zip(top_p.probs, top_p.kept, strict=True) if k)
        floor = params.min_p * best
        gone = kept_p - sum(min_p.kept)
        if gone:
            sentence = QCoreApplication.translate(
                "SamplingPanel",
                "Min-p {p} removes tokens below {floor} ({share}% of the top one): {gone} go.",
            )
        else:
            sentence = QCoreApplication.translate(
                "SamplingPanel",
                "Min-p {p} removes tokens below {floor} ({share}% of the top one): none here.",
            )
        out.append(
            sentence.format(
                p=f"{params.min_p:g}",
                floor=percent(floor),
                share=f"{params.min_p * 100:g}",
                gone=gone,
            )
        )
    return out


# --------------------------------------------------------------------- the dock


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
        for name in SLIDER_PARAMS:
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

        layout.addWidget(chain)
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
    ) -> None:
        """Draw the chain on ``token``'s stored candidates (None: nothing selected).

        ``history`` holds the token ids before it, for the repeat penalty;
        ``generated_with`` the settings it was drawn with, shown when they differ.
        """
        self._token = token if token is not None and token.candidates else None
        # The penalty window never looks further back than its largest setting.
        self._history = tuple(history[-int(param_bounds()["repeat_last_n"]["max"]) :])
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
            self._explanation.setText(_general_explanation())
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
        stages = pipeline([c.logit for c in cands], p, recent)
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
