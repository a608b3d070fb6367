"""What the knowledge panel writes: column names, indexing progress and reports,
a document's status, scores and durations.

Plain functions of ``core.kb`` records, apart from the widgets, so the panel, the
window's status line and the tests word them the same way.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication

from desktop_app.core.kb.db import Document
from desktop_app.core.kb.ingest import IngestProgress, IngestReport
from desktop_app.core.kb.parsers import TYPES

# The English name of the collection made for files added when there is none;
# it is created under its translation, ``default_collection()``.
DEFAULT_COLLECTION = "My documents"


def default_collection() -> str:
    """Where dropped files go when there is no collection yet."""
    return QCoreApplication.translate("KnowledgePanel", "My documents")


def document_columns() -> tuple[str, ...]:
    """The document table's headers."""
    return (
        QCoreApplication.translate("KnowledgePanel", "File"),
        QCoreApplication.translate("KnowledgePanel", "Type"),
        QCoreApplication.translate("KnowledgePanel", "Status"),
        QCoreApplication.translate("KnowledgePanel", "Chunks"),
        QCoreApplication.translate("KnowledgePanel", "Size"),
    )


def hit_columns() -> tuple[str, ...]:
    """The test query's hit table headers."""
    return (
        "#",
        QCoreApplication.translate("KnowledgePanel", "Source"),
        QCoreApplication.translate("KnowledgePanel", "Vector"),
        QCoreApplication.translate("KnowledgePanel", "Keyword"),
        QCoreApplication.translate("KnowledgePanel", "Fused"),
        QCoreApplication.translate("KnowledgePanel", "Passage"),
    )


def file_filter() -> str:
    """The file dialog's filter: the document types the parsers read."""
    return QCoreApplication.translate(
        "KnowledgePanel", "Documents ({patterns});;All files (*)"
    ).format(patterns=" ".join(f"*.{ext}" for ext in sorted(TYPES)))


def format_duration(seconds: float) -> str:
    """A duration the way a progress line says it: 20 s, 3 min 5 s, 1 h 2 min."""
    total = max(0, round(seconds))
    if total < 60:
        return QCoreApplication.translate("KnowledgePanel", "{s} s").format(s=total)
    if total < 3600:
        return QCoreApplication.translate("KnowledgePanel", "{min} min {s} s").format(
            min=total // 60, s=total % 60
        )
    return QCoreApplication.translate("KnowledgePanel", "{h} h {min} min").format(
        h=total // 3600, min=total % 3600 // 60
    )


def progress_text(p: IngestProgress) -> str:
    """One line for the progress bar: "files 3/10 · 412 chunks · 35 chunks/s · 20 s left"."""
    parts = [
        QCoreApplication.translate("KnowledgePanel", "files {done}/{total}").format(
            done=p.files_done, total=p.files_total
        ),
        QCoreApplication.translate("KnowledgePanel", "{count} chunks").format(
            count=f"{p.chunks_done:,}"
        ),
        QCoreApplication.translate("KnowledgePanel", "{rate} chunks/s").format(
            rate=f"{p.rate_chunks_s:.0f}"
        ),
    ]
    if p.page is not None and p.pages:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "OCR page {page}/{pages}").format(
                page=min(p.page + 1, p.pages), pages=p.pages
            )
        )
    if p.paused:
        parts.append(QCoreApplication.translate("KnowledgePanel", "paused"))
    elif p.eta_s is not None and p.files_done < p.files_total:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{duration} left").format(
                duration=format_duration(p.eta_s)
            )
        )
    if p.failed:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} failed").format(count=p.failed)
        )
    if p.skipped:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} unchanged").format(
                count=p.skipped
            )
        )
    return " · ".join(parts)


def report_text(r: IngestReport) -> str:
    """What an ingestion did, in one line."""
    parts = [
        QCoreApplication.translate("KnowledgePanel", "{count} indexed").format(count=r.indexed)
    ]
    if r.resumed:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} resumed").format(count=r.resumed)
        )
    if r.skipped_unchanged:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} unchanged").format(
                count=r.skipped_unchanged
            )
        )
    if r.removed:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} removed").format(count=r.removed)
        )
    if r.failed:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} failed").format(
                count=len(r.failed)
            )
        )
    parts += skipped_parts(r)
    parts.append(
        QCoreApplication.translate("KnowledgePanel", "{chunks} chunks in {seconds} s").format(
            chunks=f"{r.chunks_added:,}", seconds=f"{r.seconds:.1f}"
        )
    )
    if r.cancelled:
        return QCoreApplication.translate("KnowledgePanel", "Cancelled: {parts}").format(
            parts=" · ".join(parts)
        )
    return QCoreApplication.translate("KnowledgePanel", "Done: {parts}").format(
        parts=" · ".join(parts)
    )


#: File types named in the count of files not read; the others are summed.
TYPES_SHOWN = 6


def unsupported_types_text(r: IngestReport) -> str:
    """The files not read, counted by type: "120 .png, 40 .css, 15 .js"."""
    by_type = r.unsupported_by_type()
    separator = QCoreApplication.translate("KnowledgePanel", ", ")
    bare = QCoreApplication.translate("KnowledgePanel", "without extension")
    shown = [f"{count} {ext or bare}" for ext, count in by_type[:TYPES_SHOWN]]
    others = sum(count for _, count in by_type[TYPES_SHOWN:])
    if others:
        shown.append(
            QCoreApplication.translate("KnowledgePanel", "{count} of other types").format(
                count=others
            )
        )
    return separator.join(shown)


def skipped_parts(r: IngestReport) -> list[str]:
    """What an ingestion passed over, each kind apart: files of a type Glassbox does
    not read (by type), files over the size limit, hidden files and folders."""
    parts = []
    if r.unsupported:
        parts.append(
            QCoreApplication.translate(
                "KnowledgePanel", "{count} skipped, a type Glassbox does not read ({types})"
            ).format(count=len(r.unsupported), types=unsupported_types_text(r))
        )
    if r.too_large:
        parts.append(
            QCoreApplication.translate(
                "KnowledgePanel", "{count} skipped, over the size limit"
            ).format(count=len(r.too_large))
        )
    if r.hidden:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} hidden skipped").format(
                count=len(r.hidden)
            )
        )
    return parts


def skipped_list_text(r: IngestReport) -> str:
    """Every file an ingestion passed over, under a heading per reason (plain text)."""
    sections: list[str] = []
    if r.unsupported:
        sections.append(
            "\n".join(
                [
                    QCoreApplication.translate(
                        "KnowledgePanel", "Not read: Glassbox does not read files of this type"
                    ),
                    *r.unsupported,
                ]
            )
        )
    if r.too_large:
        sections.append(
            "\n".join(
                [
                    QCoreApplication.translate("KnowledgePanel", "Over the size limit"),
                    *(f"{path}: {reason}" for path, reason in r.too_large),
                ]
            )
        )
    if r.hidden:
        sections.append(
            "\n".join(
                [
                    QCoreApplication.translate(
                        "KnowledgePanel",
                        "Hidden: the name starts with a dot; a hidden folder is not looked into",
                    ),
                    *r.hidden,
                ]
            )
        )
    return "\n\n".join(sections)


def sync_text(r: IngestReport, by_watcher: bool, at: float | None = None) -> str:
    """What a sync of watched folders did, with the time it ended:
    "14:02 · A watched folder changed: 3 changed, 1 removed, 12 unchanged (0.4 s)"."""
    if r.cancelled:
        line = QCoreApplication.translate(
            "KnowledgePanel", "{clock} · Sync cancelled: {parts} ({seconds} s)"
        )
    elif by_watcher:
        line = QCoreApplication.translate(
            "KnowledgePanel", "{clock} · A watched folder changed: {parts} ({seconds} s)"
        )
    else:
        line = QCoreApplication.translate(
            "KnowledgePanel", "{clock} · Watched folders synced: {parts} ({seconds} s)"
        )
    parts = [
        QCoreApplication.translate("KnowledgePanel", "{count} changed").format(
            count=r.indexed + r.resumed
        ),
        QCoreApplication.translate("KnowledgePanel", "{count} removed").format(count=r.removed),
        QCoreApplication.translate("KnowledgePanel", "{count} unchanged").format(
            count=r.skipped_unchanged
        ),
    ]
    if r.failed:
        parts.append(
            QCoreApplication.translate("KnowledgePanel", "{count} failed").format(
                count=len(r.failed)
            )
        )
    if r.too_large:
        # Said by a sync too: they were counted as failed before they had a line of their own.
        parts.append(
            QCoreApplication.translate(
                "KnowledgePanel", "{count} skipped, over the size limit"
            ).format(count=len(r.too_large))
        )
    clock = time.strftime("%H:%M", time.localtime(time.time() if at is None else at))
    separator = QCoreApplication.translate("KnowledgePanel", ", ")
    return line.format(clock=clock, parts=separator.join(parts), seconds=f"{r.seconds:.1f}")


def score_text(value: float | None, digits: int = 3) -> str:
    """A score, or a dash when the passage was not in that side's list."""
    return "—" if value is None else f"{value:.{digits}f}"


def status_text(doc: Document) -> str:
    """The status cell: indexed, pending, or failed with its reason."""
    if doc.status == "failed":
        reason = doc.reason or QCoreApplication.translate("KnowledgePanel", "unknown reason")
        return QCoreApplication.translate("KnowledgePanel", "failed: {reason}").format(
            reason=reason
        )
    if doc.status == "indexed":
        return QCoreApplication.translate("KnowledgePanel", "indexed")
    if doc.status == "pending":
        return QCoreApplication.translate("KnowledgePanel", "pending")
    return doc.status
