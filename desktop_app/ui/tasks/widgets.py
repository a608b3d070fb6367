"""Widgets the task panels share: probability bars, diffs, plots, the template editor,
the batch table and the knowledge-base document picker.

Bars, the confusion matrix and the calibration plot are painted with
``QPainter`` from plain numbers, so they need no chart library and read the
same in light and dark palettes. Document and model text is always set as plain
text (never HTML): a document is untrusted input.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.protocol import TokenEvent
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.db import Document
from desktop_app.core.tasks.prompts import (
    DEFAULT_TEMPLATES,
    load_overrides,
    reset_template,
    save_overrides,
)
from desktop_app.core.tasks.rewrite import DiffOp
from desktop_app.ui.chat.view import ChatView, MessageView, describe_token
from desktop_app.ui.sampling.explanation import percent
from desktop_app.workers.kb.controller import KnowledgeController

# The bar of the most likely label, and of the others.
BEST_COLOUR = QColor(0x2C, 0x72, 0x8E)
OTHER_COLOUR = QColor(0x8F, 0xB8, 0xC9)
# Word diff colours: removed words (struck through) and added words.
DELETE_BACKGROUND = QColor(0xFF, 0xD7, 0xD5)
INSERT_BACKGROUND = QColor(0xC8, 0xF0, 0xC8)
# Extra data role of a table cell holding a confidence 0–1 (painted as a bar).
CONFIDENCE_ROLE = Qt.ItemDataRole.UserRole + 7
ERROR_STYLE = "color: #a40000;"
NOTE_STYLE = "color: #666666;"


def confidence_colour(p: float) -> QColor:
    """Red for an unsure value, amber in between, green for a sure one."""
    p = min(max(p, 0.0), 1.0)
    if p < 0.5:
        return QColor(0xD0, 0x4A, 0x3A)
    if p < 0.8:
        return QColor(0xE0, 0xA0, 0x30)
    return QColor(0x3A, 0x9A, 0x5A)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as CSV (Excel-friendly line ends are left to the caller)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


# --------------------------------------------------------------------- bars


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
        rect = option.rect.adjusted(4, option.rect.height() - 6, -4, -2)  # type: ignore[attr-defined]
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0xDD, 0xDD, 0xDD))
        painter.drawRect(rect)
        painter.setBrush(confidence_colour(value))
        painter.drawRect(QRect(rect.left(), rect.top(), round(rect.width() * value), rect.height()))
        painter.restore()


# --------------------------------------------------------------------- diff


def show_diff(original: QTextEdit, result: QTextEdit, diff: Sequence[tuple[DiffOp, str]]) -> None:
    """Write a word diff into two read-only views: removals struck on the left, additions
    highlighted on the right (plain text; each side reads as its own text)."""
    plain = QTextCharFormat()
    removed = QTextCharFormat()
    removed.setBackground(DELETE_BACKGROUND)
    removed.setForeground(QColor(0x80, 0x10, 0x10))
    removed.setFontStrikeOut(True)
    added = QTextCharFormat()
    added.setBackground(INSERT_BACKGROUND)
    added.setForeground(QColor(0x10, 0x50, 0x10))
    added.setFontUnderline(True)
    for view in (original, result):
        view.clear()
    left, right = QTextCursor(original.document()), QTextCursor(result.document())
    for op, text in diff:
        if op == "equal":
            left.insertText(text, plain)
            right.insertText(text, plain)
        elif op == "delete":
            left.insertText(text, removed)
        else:
            right.insertText(text, added)
    counts = {op: sum(len(t.split()) for o, t in diff if o == op) for op in ("delete", "insert")}
    original.setAccessibleDescription(
        QCoreApplication.translate("TaskWidgets", "{n} word(s) removed, struck through").format(
            n=counts["delete"]
        )
    )
    result.setAccessibleDescription(
        QCoreApplication.translate("TaskWidgets", "{n} word(s) added, highlighted").format(
            n=counts["insert"]
        )
    )


# --------------------------------------------------------------------- plots


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
        points = []
        for conf, acc, n in self._bins:
            x = plot.left() + conf * side
            y = plot.bottom() - acc * side
            points.append((x, y, n))
        painter.setPen(QPen(BEST_COLOUR, 2))
        for (x1, y1, _), (x2, y2, _) in pairwise(points):
            painter.drawLine(round(x1), round(y1), round(x2), round(y2))
        painter.setBrush(BEST_COLOUR)
        for x, y, n in points:
            r = 3 + 6 * math.sqrt(n / total)
            painter.drawEllipse(round(x - r), round(y - r), round(2 * r), round(2 * r))


# --------------------------------------------------------------------- templates


class TemplateEditor(QGroupBox):
    """A collapsible editor of a task's prompt templates, saved as user overrides.

    What the text box holds is what the next run uses, saved or not; Save keeps
    it for later runs (and the command line), Reset to default drops the override.
    """

    sig_changed = Signal()
    """A template was saved or reset."""

    def __init__(self, names: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Prompt template"))
        self.setAccessibleName(self.tr("Prompt template"))
        self.setCheckable(True)
        self.setChecked(False)
        self._names = list(names)
        self._texts: dict[str, str] = {}
        self._body = QWidget(self)
        self._body.setAccessibleName(self.tr("Prompt template editor"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self._body)
        inner = QVBoxLayout(self._body)
        inner.setContentsMargins(0, 0, 0, 0)
        self._choice = QComboBox(self._body)
        self._choice.setAccessibleName(self.tr("Template name"))
        for name in self._names:
            self._choice.addItem(self._template_title(name), name)
            self._choice.setItemData(self._choice.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self._choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._choice.setMinimumContentsLength(12)
        self._edit = QPlainTextEdit(self._body)
        self._edit.setAccessibleName(self.tr("Template text"))
        self._edit.setToolTip(
            self.tr(
                "Placeholders in braces ({text}, {labels}, …) are filled in; other braces stay."
            )
        )
        self._edit.setMinimumHeight(self._edit.fontMetrics().lineSpacing() * 5)
        self._state = QLabel(self._body)
        self._state.setAccessibleName(self.tr("Template state"))
        self._state.setStyleSheet(NOTE_STYLE)
        self._state.setWordWrap(True)
        buttons = QHBoxLayout()
        self._save = QPushButton(self.tr("Save"), self._body)
        self._save.setAccessibleName(self.tr("Save template"))
        self._reset = QPushButton(self.tr("Reset to default"), self._body)
        self._reset.setAccessibleName(self.tr("Reset template to default"))
        buttons.addWidget(self._state, 1)
        buttons.addWidget(self._save)
        buttons.addWidget(self._reset)
        inner.addWidget(self._choice)
        inner.addWidget(self._edit)
        inner.addLayout(buttons)
        self._body.setVisible(False)
        self._collapse(True)
        self._load()
        self._show(self._names[0])
        self.toggled.connect(self._on_self_toggled)
        self._choice.currentIndexChanged.connect(self._on_choice_changed)
        self._edit.textChanged.connect(self._on_edit_text_changed)
        self._save.clicked.connect(self._on_save_clicked)
        self._reset.clicked.connect(self._on_reset_clicked)

    def templates(self) -> dict[str, str]:
        """Every template, with this editor's current texts for its own names."""
        return {**DEFAULT_TEMPLATES, **self._saved(), **self._texts}

    def set_text(self, name: str, text: str) -> None:
        """Put ``text`` in the editor for template ``name`` (unsaved)."""
        self._choice.setCurrentIndex(self._choice.findData(name))
        self._edit.setPlainText(text)

    def text(self, name: str) -> str:
        """The text the next run uses for ``name``."""
        return self.templates()[name]

    def _template_title(self, name: str) -> str:
        """What the template ``name`` ("summarize.part") is called in the list."""
        titles = {
            "system": self.tr("System prompt"),
            "user": self.tr("User prompt"),
            "part": self.tr("Each part of a long text"),
            "combine": self.tr("Combining the parts"),
        }
        return titles.get(name.rpartition(".")[2], name)

    def _current(self) -> str:
        """The name of the template shown."""
        return str(self._choice.currentData())

    def _saved(self) -> dict[str, str]:
        try:
            return load_overrides()
        except GlassboxError as exc:
            self._state.setText(str(exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return {}

    def _load(self) -> None:
        saved = self._saved()
        self._texts = {n: saved.get(n, DEFAULT_TEMPLATES[n]) for n in self._names}

    def _show(self, name: str) -> None:
        self._edit.blockSignals(True)
        self._edit.setPlainText(self._texts[name])
        self._edit.blockSignals(False)
        self._describe(name)

    def _describe(self, name: str) -> None:
        current = self._texts[name]
        saved = self._saved().get(name, DEFAULT_TEMPLATES[name])
        if current != saved:
            state = self.tr("edited, not saved (used by the next run)")
        elif current == DEFAULT_TEMPLATES[name]:
            state = self.tr("default")
        else:
            state = self.tr("your saved version")
        self._state.setStyleSheet(NOTE_STYLE)
        self._state.setText(state)
        self._reset.setEnabled(current != DEFAULT_TEMPLATES[name])
        self._save.setEnabled(current != saved)

    @Slot(bool)
    def _on_self_toggled(self, on: bool) -> None:
        self._body.setVisible(on)
        self._collapse(not on)

    def _collapse(self, collapsed: bool) -> None:
        # Collapsed, the box is its title only, not an empty frame.
        self.setFlat(collapsed)
        self.setMaximumHeight(self.fontMetrics().height() + 8 if collapsed else 16777215)

    @Slot(int)
    def _on_choice_changed(self, index: int) -> None:
        name = self._current()
        if name in self._texts:
            self._show(name)

    @Slot()
    def _on_edit_text_changed(self) -> None:
        name = self._current()
        self._texts[name] = self._edit.toPlainText()
        self._describe(name)

    @Slot()
    def _on_save_clicked(self) -> None:
        name = self._current()
        try:
            save_overrides({**self._saved(), name: self._texts[name]})
        except (GlassboxError, OSError) as exc:
            self._state.setText(self.tr("Could not save: {error}").format(error=exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return
        self._describe(name)
        self.sig_changed.emit()

    @Slot()
    def _on_reset_clicked(self) -> None:
        name = self._current()
        try:
            self._texts[name] = reset_template(name)
        except (GlassboxError, OSError) as exc:
            self._state.setText(self.tr("Could not reset: {error}").format(error=exc))
            self._state.setStyleSheet(ERROR_STYLE)
            return
        self._show(name)
        self.sig_changed.emit()


# --------------------------------------------------------------------- token view


class TokenView(ChatView):
    """The transcript's token view for a task result: tinted tokens, hover and click for
    alternatives, without the chat's actions (a task result has no branches to make)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, read_only=True)


class TokenDialog(QDialog):
    """A task's generated result in the token view: each token tinted by its probability,
    its alternatives on hover (or click, or Alt+arrows then Enter)."""

    def __init__(
        self,
        title: str,
        text: str,
        tokens: Sequence[TokenEvent],
        detail: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Tokens — {title}").format(title=title))
        self.setAccessibleName(self.tr("Result tokens"))
        self.resize(640, 480)
        layout = QVBoxLayout(self)
        self.view = TokenView(self)
        self.view.setAccessibleName(self.tr("Result tokens view"))
        self.view.set_show_probabilities(True)
        self.view.show_messages(
            [MessageView(1, title, text, tuple(tokens), status="complete", detail=detail)]
        )
        layout.addWidget(self.view, 1)
        self._selected = QLabel(
            self.tr("Hover a token to see the candidates it was drawn from."), self
        )
        self._selected.setAccessibleName(self.tr("Selected token"))
        self._selected.setWordWrap(True)
        self._selected.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self._selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setAccessibleName(self.tr("Result tokens buttons"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.view.sig_token_selected.connect(self._on_view_token_selected)

    @Slot(object, object)
    def _on_view_token_selected(self, token: TokenEvent | None, where: object) -> None:
        if token is not None:
            self._selected.setText(describe_token(token))


# --------------------------------------------------------------------- batch


@dataclass(slots=True)
class BatchRow:
    """One source of a batch and where it stands: waiting, working…, done, failed, cancelled.

    ``status`` is a key (exported as is); ``status_text`` shows it in the window.
    ``extra`` holds task-specific figures that the exports add after the result.
    """

    source: str
    status: str = "waiting"
    result: str = ""
    error: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the source was worked on to its end (a result or an error)."""
        return self.status in ("done", "failed")


def export_to(
    parent: QWidget, title: str, default: Path, file_filter: str, write: Callable[[str], object]
) -> str | None:
    """Ask where to save, then ``write(path)``; returns what went wrong, as a sentence
    for the status line, or None (saved, or the user cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(default), file_filter)
    if not path:
        return None
    try:
        write(path)
    except OSError as exc:
        return QCoreApplication.translate("TaskWidgets", "Could not write {path}: {reason}").format(
            path=path, reason=exc.strerror or exc
        )
    return None


def status_text(status: str) -> str:
    """A batch row's status as the table shows it."""
    texts = {
        "waiting": QCoreApplication.translate("BatchTable", "waiting"),
        "working…": QCoreApplication.translate("BatchTable", "working…"),
        "done": QCoreApplication.translate("BatchTable", "done"),
        "failed": QCoreApplication.translate("BatchTable", "failed"),
        "cancelled": QCoreApplication.translate("BatchTable", "cancelled"),
        "not run": QCoreApplication.translate("BatchTable", "not run"),
    }
    return texts.get(status, status)


class BatchTable(QWidget):
    """A batch's sources in a table (source, result, status) filled as each finishes.

    Rows that finished stay when the batch is cancelled or fails; the exports
    write those rows only. Selecting a row asks the tab to show its whole result.
    """

    sig_row_selected = Signal(int)
    """The row the user selected (its result should be shown)."""

    sig_status = Signal(str, bool)
    """A line for the tab's status (an export written or failed), and whether it is an error."""

    def __init__(self, name: str, stem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("{name} batch").format(name=name))
        self._name = name
        self._stem = stem
        self._rows: list[BatchRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        columns = ["#", self.tr("Source"), self.tr("Result"), self.tr("Status")]
        self.table = QTableWidget(0, len(columns), self)
        self.table.setAccessibleName(self.tr("{name} batch results").format(name=name))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(self.tr("Select a row to read its whole result below."))
        self.table.setMinimumHeight(self.fontMetrics().height() * 8)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.csv_button = QPushButton(self.tr("Export CSV…"), self)
        self.csv_button.setAccessibleName(
            self.tr("Export {name} batch as CSV").format(name=name.lower())
        )
        self.json_button = QPushButton(self.tr("Export JSON…"), self)
        self.json_button.setAccessibleName(
            self.tr("Export {name} batch as JSON").format(name=name.lower())
        )
        row.addStretch(1)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(False)
            row.addWidget(b)
        layout.addLayout(row)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.csv_button.clicked.connect(self._on_csv_button_clicked)
        self.json_button.clicked.connect(self._on_json_button_clicked)

    def start(self, sources: Sequence[str]) -> None:
        """A new batch: one waiting row per source, exports off until it ends."""
        self._rows = [BatchRow(s) for s in sources]
        self.table.clearSelection()
        self.table.setRowCount(len(self._rows))
        for i in range(len(self._rows)):
            self._paint(i)
        self.table.resizeColumnToContents(0)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(False)

    def set_running(self, row: int) -> None:
        """Row ``row`` is being worked on."""
        self._rows[row].status = "working…"
        self._paint(row)

    def set_result(self, row: int, result: str, extra: dict[str, object] | None = None) -> None:
        """Row ``row`` finished with ``result``; the first finished row is selected."""
        r = self._rows[row]
        r.status, r.result, r.error, r.extra = "done", result, "", dict(extra or {})
        self._paint(row)
        if not self.table.selectionModel().hasSelection():
            self.table.selectRow(row)

    def set_failed(self, row: int, error: str) -> None:
        """Row ``row`` could not be worked on; ``error`` says why (the batch goes on)."""
        r = self._rows[row]
        r.status, r.result, r.error = "failed", "", error
        self._paint(row)

    def finish(self, cancelled: bool) -> None:
        """The batch ended: rows never worked on say so, finished rows can be exported."""
        for i, r in enumerate(self._rows):
            if not r.finished:
                r.status = "cancelled" if cancelled else "not run"
                self._paint(i)
        done = any(r.finished for r in self._rows)
        for b in (self.csv_button, self.json_button):
            b.setEnabled(done)

    def rows(self) -> list[BatchRow]:
        """Every row, in input order."""
        return list(self._rows)

    def selected_row(self) -> int | None:
        """The selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def export_csv(self, path: str | Path) -> Path:
        """The finished rows as CSV: source, status, result, error, then the task's figures."""
        rows = [r for r in self._rows if r.finished]
        keys = list(dict.fromkeys(k for r in rows for k in r.extra))
        header = ["source", "status", "result", "error", *keys]
        body = [
            [r.source, r.status, r.result, r.error or None, *(r.extra.get(k) for k in keys)]
            for r in rows
        ]
        target = Path(path)
        target.write_text(csv_text(header, body), encoding="utf-8")
        self.sig_status.emit(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(rows), file=target.name), False
        )
        return target

    def export_json(self, path: str | Path) -> Path:
        """The finished rows as a JSON list of objects."""
        out: list[dict[str, object]] = []
        for r in self._rows:
            if not r.finished:
                continue
            entry: dict[str, object] = {"source": r.source, "status": r.status}
            if r.error:
                entry["error"] = r.error
            else:
                entry["result"] = r.result
                entry.update(r.extra)
            out.append(entry)
        target = Path(path)
        target.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
        self.sig_status.emit(
            self.tr("Exported {n} row(s) to {file}.").format(n=len(out), file=target.name), False
        )
        return target

    def _paint(self, row: int) -> None:
        r = self._rows[row]
        shown = r.error or " ".join(r.result.split())[:200]
        cells = (str(row + 1), r.source, shown, status_text(r.status))
        for col, value in enumerate(cells):
            item = QTableWidgetItem(value)
            if col == 2 and (r.error or r.result):
                item.setToolTip((r.error or r.result)[:2000])
            if r.error and col in (2, 3):
                item.setForeground(QColor(0xA4, 0x00, 0x00))
            self.table.setItem(row, col, item)

    def _export(self, kind: str) -> None:
        suffix = kind.lower()
        if kind == "CSV":
            title, filter_ = self.tr("Export as CSV"), self.tr("CSV (*.csv)")
        else:
            title, filter_ = self.tr("Export as JSON"), self.tr("JSON (*.json)")
        write = self.export_csv if kind == "CSV" else self.export_json
        error = export_to(self, title, Path.home() / f"{self._stem}.{suffix}", filter_, write)
        if error:
            self.sig_status.emit(error, True)

    @Slot()
    def _on_table_selection_changed(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.sig_row_selected.emit(row)

    @Slot()
    def _on_csv_button_clicked(self) -> None:
        self._export("CSV")

    @Slot()
    def _on_json_button_clicked(self) -> None:
        self._export("JSON")


# --------------------------------------------------------------------- knowledge base picker


class KnowledgePicker(QDialog):
    """Choose documents of a knowledge collection as a task's input.

    Lists the collections, then the chosen one's indexed documents (several may
    be selected); "Use" sends their paths and ids as ``sig_chosen``. Everything
    arrives from the ``KnowledgeController``'s thread, so the lists fill a moment
    after the dialog opens.
    """

    sig_chosen = Signal(list)
    """The chosen documents as ``(path, doc_id)`` pairs, in the order listed."""

    def __init__(self, knowledge: KnowledgeController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("From the knowledge base"))
        self.setAccessibleName(self.tr("Knowledge base documents"))
        self.resize(460, 420)
        self._knowledge = knowledge
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        collection_caption = QLabel(self.tr("Collection"), self)
        collection_caption.setAccessibleName(self.tr("Collection"))
        self.collection = QComboBox(self)
        self.collection.setAccessibleName(self.tr("Knowledge collection"))
        row.addWidget(collection_caption)
        row.addWidget(self.collection, 1)
        layout.addLayout(row)
        self.documents = QListWidget(self)
        self.documents.setAccessibleName(self.tr("Knowledge documents"))
        self.documents.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.documents.setToolTip(
            self.tr("Select one document, or several to run them as a batch.")
        )
        layout.addWidget(self.documents, 1)
        self.note = QLabel(self.tr("Listing the collections…"), self)
        self.note.setAccessibleName(self.tr("Knowledge picker note"))
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.setAccessibleName(self.tr("Knowledge picker buttons"))
        self.use_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.use_button.setText(self.tr("Use"))
        self.use_button.setAccessibleName(self.tr("Use the selected documents"))
        self.use_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel choosing documents")
        )
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.collection.currentTextChanged.connect(self._on_collection_current_text_changed)
        self.documents.itemSelectionChanged.connect(self._on_documents_selection_changed)
        self.documents.itemDoubleClicked.connect(self._on_documents_item_double_clicked)
        knowledge.sig_collections.connect(self._on_knowledge_collections)
        knowledge.sig_documents.connect(self._on_knowledge_documents)
        knowledge.refresh()

    def chosen(self) -> list[tuple[str, int]]:
        """The selected documents as ``(path, doc_id)``, in the order listed."""
        out = []
        for i in range(self.documents.count()):
            item = self.documents.item(i)
            if item.isSelected():
                path, doc_id = item.data(Qt.ItemDataRole.UserRole)
                out.append((str(path), int(doc_id)))
        return out

    def accept(self) -> None:
        """Send the selection (nothing when none is selected) and close."""
        chosen = self.chosen()
        if not chosen:
            return
        super().accept()
        self.sig_chosen.emit(chosen)

    @Slot(list)
    def _on_knowledge_collections(self, summaries: list[object]) -> None:
        names = [str(getattr(s, "name", s)) for s in summaries]
        current = self.collection.currentText()
        self.collection.blockSignals(True)
        self.collection.clear()
        self.collection.addItems(names)
        if current in names:
            self.collection.setCurrentText(current)
        self.collection.blockSignals(False)
        if not names:
            self.note.setText(
                self.tr("The knowledge base is empty: add documents in the Knowledge panel.")
            )
            return
        self._on_collection_current_text_changed(self.collection.currentText())

    @Slot(str)
    def _on_collection_current_text_changed(self, name: str) -> None:
        self.documents.clear()
        self.use_button.setEnabled(False)
        if name:
            self.note.setText(self.tr("Listing the documents of “{name}”…").format(name=name))
            self._knowledge.documents(name)

    @Slot(str, list)
    def _on_knowledge_documents(self, collection: str, documents: list[Document]) -> None:
        if collection != self.collection.currentText():
            return
        self.documents.clear()
        skipped = 0
        for doc in documents:
            if doc.status != "indexed":
                skipped += 1
                continue
            item = QListWidgetItem(Path(doc.path).name)
            item.setToolTip(doc.path)
            item.setData(Qt.ItemDataRole.UserRole, (doc.path, doc.id))
            self.documents.addItem(item)
        count = self.documents.count()
        note = (
            self.tr("{n} document(s) in “{collection}”.").format(n=count, collection=collection)
            if count
            else self.tr("No indexed document here.")
        )
        if skipped:
            note += " " + self.tr(
                "{n} not indexed (still pending or failed) are not listed."
            ).format(n=skipped)
        self.note.setText(note)

    @Slot()
    def _on_documents_selection_changed(self) -> None:
        n = len(self.documents.selectedItems())
        self.use_button.setEnabled(n > 0)
        self.use_button.setText(
            self.tr("Use {n} as a batch").format(n=n) if n > 1 else self.tr("Use")
        )

    @Slot(QListWidgetItem)
    def _on_documents_item_double_clicked(self, item: QListWidgetItem) -> None:
        self.documents.clearSelection()
        item.setSelected(True)
        self.accept()
