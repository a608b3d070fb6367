"""Probability bars, confidence bars in table cells, the confusion matrix and the
calibration plot of the task tabs.

They are painted with ``QPainter`` from plain numbers, so they need no chart
library and read the same in light and dark palettes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop_app.ui.sampling.explanation import percent

# The bar of the most likely label, and of the others.
BEST_COLOUR = QColor(0x2C, 0x72, 0x8E)
OTHER_COLOUR = QColor(0x8F, 0xB8, 0xC9)

# Extra data role of a table cell holding a confidence 0–1 (painted as a bar).
CONFIDENCE_ROLE = Qt.ItemDataRole.UserRole + 7


def confidence_colour(p: float) -> QColor:
    """Red for an unsure value, amber in between, green for a sure one."""
    p = min(max(p, 0.0), 1.0)
    if p < 0.5:
        return QColor(0xD0, 0x4A, 0x3A)
    if p < 0.8:
        return QColor(0xE0, 0xA0, 0x30)
    return QColor(0x3A, 0x9A, 0x5A)


class ProbabilityBars(QWidget):
    """One horizontal bar per label, its length the label's probability.

    The bars of a classification add up to 100%; the most likely label is drawn
    darker and named first in the accessible description.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Label probabilities"))
        self._probs: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_probabilities(self, probabilities: Mapping[str, float]) -> None:
        """Show ``probabilities`` (label → p) in the order given."""
        self._probs = [(str(k), float(v)) for k, v in probabilities.items()]
        ranked = sorted(self._probs, key=lambda kv: -kv[1])
        self.setAccessibleDescription(
            "; ".join(f"{name} {percent(p)}" for name, p in ranked) or self.tr("No result")
        )
        self.updateGeometry()
        self.update()

    def probabilities(self) -> dict[str, float]:
        """What is shown, label → p."""
        return dict(self._probs)

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 8

    def sizeHint(self) -> QSize:
        return QSize(320, max(1, len(self._probs)) * self._row_height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        if not self._probs:
            painter.setPen(QColor(0x8A, 0x8A, 0x8A))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("No result yet"))
            return
        row = self._row_height()
        label_w = min(max(fm.horizontalAdvance(n) for n, _ in self._probs) + 12, self.width() // 3)
        value_w = fm.horizontalAdvance("100.0%") + 10
        bar_w = max(self.width() - label_w - value_w - 4, 10)
        best = max(p for _, p in self._probs)
        for i, (name, p) in enumerate(self._probs):
            y = 2 + i * row
            painter.setPen(text_colour)
            shown = fm.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(
                QRect(0, y, label_w - 8, row),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                shown,
            )
            track = QRect(label_w, y + 3, bar_w, row - 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.palette().color(QPalette.ColorRole.AlternateBase).darker(105))
            painter.drawRoundedRect(track, 3, 3)
            filled = QRect(
                track.left(), track.top(), round(bar_w * min(max(p, 0.0), 1.0)), track.height()
            )
            painter.setBrush(BEST_COLOUR if p == best else OTHER_COLOUR)
            if filled.width() > 0:
                painter.drawRoundedRect(filled, 3, 3)
            painter.setPen(text_colour)
            painter.drawText(
                QRect(label_w + bar_w + 6, y, value_w, row),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                percent(p),
            )


class ConfidenceDelegate(QStyledItemDelegate):
    """Paints a cell's ``CONFIDENCE_ROLE`` (0–1) as a thin bar under its text."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        value = index.data(CONFIDENCE_ROLE)
        if not isinstance(value, float):
            return
        rect = option.rect.adjusted(4, option.rect.height() - 6, -4, -2)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0xDD, 0xDD, 0xDD))
        painter.drawRect(rect)
        painter.setBrush(confidence_colour(value))
        painter.drawRect(QRect(rect.left(), rect.top(), round(rect.width() * value), rect.height()))
        painter.restore()


class ConfusionMatrix(QWidget):
    """A gold × predicted count grid, shaded by each row's share, counts written in."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Confusion matrix"))
        self._labels: list[str] = []
        self._counts: dict[str, dict[str, int]] = {}
        self.setMinimumSize(220, 160)

    def set_matrix(self, confusion: Mapping[str, Mapping[str, int]], labels: Sequence[str]) -> None:
        """Show ``confusion[gold][predicted]`` for ``labels`` (rows: gold, columns: predicted)."""
        self._labels = list(labels)
        self._counts = {g: dict(row) for g, row in confusion.items()}
        cells = [
            self.tr("gold {gold}, predicted {predicted}: {n}").format(
                gold=g, predicted=p, n=self._counts.get(g, {}).get(p, 0)
            )
            for g in self._labels
            for p in self._labels
        ]
        self.setAccessibleDescription("; ".join(cells))
        self.update()

    def count(self, gold: str, predicted: str) -> int:
        """The number of texts with gold label ``gold`` predicted as ``predicted``."""
        return self._counts.get(gold, {}).get(predicted, 0)

    def sizeHint(self) -> QSize:
        return QSize(300, 60 + 28 * max(len(self._labels), 2))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        fm = self.fontMetrics()
        text = self.palette().color(QPalette.ColorRole.WindowText)
        n = len(self._labels)
        if not n:
            return
        margin_left = min(max(fm.horizontalAdvance(x) for x in self._labels) + 14, 140)
        top = fm.height() * 2 + 6
        cell = max(min((self.width() - margin_left - 4) // n, (self.height() - top - 4) // n), 12)
        painter.setPen(text)
        painter.drawText(
            QRect(margin_left, 0, cell * n, fm.height()),
            Qt.AlignmentFlag.AlignCenter,
            self.tr("predicted"),
        )
        for j, label in enumerate(self._labels):
            shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, cell - 2)
            painter.drawText(
                QRect(margin_left + j * cell, fm.height() + 2, cell, fm.height()),
                Qt.AlignmentFlag.AlignCenter,
                shown,
            )
        for i, gold in enumerate(self._labels):
            y = top + i * cell
            painter.setPen(text)
            painter.drawText(
                QRect(0, y, margin_left - 6, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(gold, Qt.TextElideMode.ElideRight, margin_left - 8),
            )
            row = self._counts.get(gold, {})
            total = sum(row.values())
            for j, pred in enumerate(self._labels):
                c = row.get(pred, 0)
                share = c / total if total else 0.0
                base = QColor(0x3A, 0x9A, 0x5A) if i == j else QColor(0xD0, 0x4A, 0x3A)
                fill = QColor(base)
                fill.setAlphaF(0.08 + 0.8 * share)
                rect = QRect(margin_left + j * cell, y, cell - 2, cell - 2)
                painter.fillRect(rect, fill)
                painter.setPen(QColor(0x10, 0x10, 0x10) if share > 0.5 else text)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(c))


class CalibrationPlot(QWidget):
    """A reliability diagram: accuracy against confidence per bin, and the diagonal.

    A model whose 80%-sure answers are right 80% of the time has its points on
    the diagonal; the dot size grows with the number of texts in the bin.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Calibration plot"))
        self._bins: list[tuple[float, float, int]] = []
        self._ece = 0.0
        self.setMinimumSize(200, 180)

    def set_bins(self, bins: Sequence[tuple[float, float, int]], ece: float) -> None:
        """Show (mean confidence, accuracy, count) per bin and the expected calibration error."""
        self._bins = [(float(c), float(a), int(n)) for c, a, n in bins]
        self._ece = ece
        bins_text = "; ".join(
            self.tr("confidence {confidence:.0%}: accuracy {accuracy:.0%} of {n}").format(
                confidence=c, accuracy=a, n=n
            )
            for c, a, n in self._bins
        )
        self.setAccessibleDescription(
            self.tr("Expected calibration error {ece:.3f}; {bins}").format(ece=ece, bins=bins_text)
        )
        self.update()

    def bins(self) -> list[tuple[float, float, int]]:
        """What is plotted."""
        return list(self._bins)

    def sizeHint(self) -> QSize:
        return QSize(260, 220)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        text = self.palette().color(QPalette.ColorRole.WindowText)
        left, bottom = fm.horizontalAdvance("100%") + 8, fm.height() * 2 + 4
        side = max(min(self.width() - left - 8, self.height() - bottom - fm.height() - 4), 40)
        plot = QRect(left, fm.height() + 2, side, side)
        painter.setPen(QPen(QColor(0xAA, 0xAA, 0xAA), 1))
        painter.drawRect(plot)
        painter.setPen(QPen(QColor(0x99, 0x99, 0x99), 1, Qt.PenStyle.DashLine))
        painter.drawLine(plot.bottomLeft(), plot.topRight())
        painter.setPen(text)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 6.0))
        painter.setFont(small)
        sfm = QFontMetrics(small)
        for v in (0.0, 0.5, 1.0):
            y = plot.bottom() - round(v * side)
            painter.drawText(
                QRect(0, y - sfm.height() // 2, left - 4, sfm.height()),
                Qt.AlignmentFlag.AlignRight,
                f"{v:.0%}",
            )
            x = plot.left() + round(v * side)
            # 0% starts at the axis, so it does not sit on the vertical axis' 0%.
            painter.drawText(
                QRect(x if v == 0.0 else x - 20, plot.bottom() + 2, 40, sfm.height()),
                Qt.AlignmentFlag.AlignLeft if v == 0.0 else Qt.AlignmentFlag.AlignCenter,
                f"{v:.0%}",
            )
        painter.drawText(
            QRect(plot.left(), plot.bottom() + sfm.height() + 2, side, sfm.height()),
            Qt.AlignmentFlag.AlignCenter,
            self.tr("confidence"),
        )
        painter.drawText(
            QRect(plot.left(), 0, side, fm.height()),
            Qt.AlignmentFlag.AlignCenter,
            self.tr("accuracy · ECE {ece:.3f}").format(ece=self._ece),
        )
        total = sum(n for _, _, n in self._bins) or 1
        # Centres in floating point: the line and the dots round them once, when drawn.
        points = [
            (plot.left() + conf * side, plot.bottom() - acc * side, n)
            for conf, acc, n in self._bins
        ]
        painter.setPen(QPen(BEST_COLOUR, 2))
        for (x1, y1, _), (x2, y2, _) in pairwise(points):
            painter.drawLine(round(x1), round(y1), round(x2), round(y2))
        painter.setBrush(BEST_COLOUR)
        for cx, cy, n in points:
            r = 3 + 6 * math.sqrt(n / total)
            painter.drawEllipse(round(cx - r), round(cy - r), round(2 * r), round(2 * r))
