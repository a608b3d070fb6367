"""Translated headlines for the errors the engine and the knowledge base report.

Messages from ``core`` and ``workers`` carry a machine-readable ``kind`` and an
English detail written where the error happened (a path, a byte count, a server's
reply). The window shows the headline for the kind in the user's language, then
the detail as it came.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def error_title(kind: str) -> str:
    """One translated line saying what went wrong, for an error's ``kind``."""
    titles = {
        "model_file": QCoreApplication.translate("Errors", "The model file cannot be used."),
        "model_install": QCoreApplication.translate(
            "Errors", "The default model could not be prepared."
        ),
        "model_load": QCoreApplication.translate("Errors", "The model could not be loaded."),
        "context_overflow": QCoreApplication.translate(
            "Errors", "The conversation no longer fits the model's context."
        ),
        "engine_crashed": QCoreApplication.translate("Errors", "The engine stopped unexpectedly."),
        "no_model": QCoreApplication.translate("Errors", "No model is loaded."),
        "invalid_request": QCoreApplication.translate("Errors", "These settings cannot be used."),
        "remote": QCoreApplication.translate(
            "Errors", "The remote server did not answer as expected."
        ),
        "storage": QCoreApplication.translate("Errors", "Saving failed."),
        "cancelled": QCoreApplication.translate("Errors", "Cancelled."),
        "import_refused": QCoreApplication.translate(
            "Errors", "The file could not be imported, and no chat was added."
        ),
        "kb_locked": QCoreApplication.translate(
            "Errors", "The knowledge base is in use by another Glassbox."
        ),
        "kb_no_collection": QCoreApplication.translate("Errors", "There is no such collection."),
        "kb_error": QCoreApplication.translate("Errors", "The knowledge base reported a problem."),
        "kb_parse": QCoreApplication.translate("Errors", "The document could not be read."),
        "kb_chroma_server": QCoreApplication.translate(
            "Errors", "The Chroma server holding this collection cannot be reached."
        ),
        "kb_chroma_lost": QCoreApplication.translate(
            "Errors", "The Chroma server has lost this collection's vectors."
        ),
        "kb_embedding_model": QCoreApplication.translate(
            "Errors", "The embedding model could not be loaded."
        ),
    }
    return titles.get(kind, QCoreApplication.translate("Errors", "Something went wrong."))


def error_text(kind: str, detail: str) -> str:
    """The headline for ``kind`` followed by the detail, for a label or a message box."""
    detail = detail.strip()
    title = error_title(kind)
    return f"{title}\n{detail}" if detail else title
