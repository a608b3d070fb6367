"""The sampling pipeline chart: a selected token's candidates after each stage of the chain."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop_app.core.sampling import PipelineStage
from desktop_app.ui.sampling.explanation import (
    hint,
    percent,
    quoted,
    stage_label,
    stage_setting,
    stage_title,
    visible,
)

#: Candidates drawn as rows (the drawn token is added when it is not among them).
CHART_ROWS = 10


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
        "typical_p": "typical",
        "top_n_sigma": "top-nσ",
        "xtc": "XTC",
        "mirostat": "mirostat",
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
                self.tr("Drawn token {token}.").format(token=quoted(self._texts[self._drawn]))
            )
        first, last = self._stages[0], self._stages[-1]
        for stage, before in ((first, True), (last, False)):
            listed = ", ".join(
                self.tr("{token} {value} percent").format(
                    token=quoted(self._texts[i]), value=percent(stage.probs[i]).rstrip("%")
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
            (bold_fm.horizontalAdvance(visible(self._texts[i])) + 8 for i in self._rows),
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
            visible(self._texts[index]), Qt.TextElideMode.ElideRight, label_w - 6
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
            return stage_title(self._stages[column])
        if row >= len(self._rows):
            return self.tr("The {count} less likely candidates together.").format(
                count=len(self._others)
            )
        index = self._rows[row]
        name = html.escape(quoted(self._texts[index]))
        if column < 0:
            return self.tr("{token} (drawn)").format(token=name) if index == self._drawn else name
        stage = self._stages[column]
        if stage.kept[index]:
            value = f"{stage.probs[index] * 100:.2f}"
            if column:
                return self.tr("{token} after {stage}: {value}%").format(
                    token=name, stage=stage_title(stage), value=value
                )
            return self.tr("{token} before sampling: {value}%").format(token=name, value=value)
        if column:
            return self.tr("{token} was removed (after {stage}).").format(
                token=name, stage=stage_title(stage)
            )
        return self.tr("{token} was removed (before sampling).").format(token=name)
