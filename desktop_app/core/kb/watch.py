"""Watched folders: a cheap scan of sizes and modification times, and what changed.

Hashing every file on every poll would read whole folders every few seconds; a
scan costs one ``stat`` per file. What the scan reports as changed is then
ingested again, where the content hash decides: a file saved without a change is
skipped (and its new time recorded, so it is not reported again).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.kb.parsers import file_type

#: (size in bytes, modification time in seconds) of a file, as ``os.stat`` gives them.
FileState = tuple[int, float]


@dataclass(frozen=True, slots=True)
class FolderChanges:
    """Files added, modified and removed between two scans (absolute paths, sorted)."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed)

    def as_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "added": list(self.added),
            "modified": list(self.modified),
            "removed": list(self.removed),
        }


def walk_supported(
    folder: Path,
    outside: list[str] | None = None,
    *,
    unsupported: list[str] | None = None,
    hidden: list[str] | None = None,
) -> Iterator[Path]:
    """Files of a supported type under ``folder``, sorted, hidden entries and links to
    folders skipped (the same files ``ingest`` takes from a folder).

    A link to a file outside the folder is skipped too, and its path added to
    ``outside`` when given: a downloaded archive's ``notes.json`` that points at
    Glassbox's own settings (or ``~/.ssh``) must not be indexed and shown in answers.
    What else is passed over is added to the lists given, so the ingest summary can
    say it: ``unsupported`` gets the files of a type ``file_type`` does not read,
    ``hidden`` the files and folders whose name starts with a dot (a folder with a
    trailing separator; it is not looked into, so its files are not counted).
    """
    root = os.path.realpath(folder)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        if hidden is not None:
            hidden.extend(
                os.path.join(dirpath, d) + os.sep for d in sorted(dirnames) if d.startswith(".")
            )
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                if hidden is not None:
                    hidden.append(os.path.join(dirpath, name))
                continue
            child = Path(dirpath) / name
            if file_type(child) is None:
                if unsupported is not None:
                    unsupported.append(str(child))
                continue
            if not under(os.path.realpath(child), [root]):
                if outside is not None:
                    outside.append(str(child))
                continue
            yield child


def scan(folders: Iterable[Path]) -> dict[str, FileState]:
    """(size, mtime) of every supported file under the folders; missing folders are empty."""
    out: dict[str, FileState] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in walk_supported(folder):
            try:
                st = path.stat()
            except OSError:
                continue  # deleted between listing and stat: the next scan sees it gone
            if not os.path.isfile(path):
                continue
            out[str(path.resolve())] = (st.st_size, st.st_mtime)
    return out


def diff(before: Mapping[str, FileState], after: Mapping[str, FileState]) -> FolderChanges:
    """What changed from ``before`` to ``after``."""
    return FolderChanges(
        added=tuple(sorted(p for p in after if p not in before)),
        modified=tuple(sorted(p for p, s in after.items() if p in before and before[p] != s)),
        removed=tuple(sorted(p for p in before if p not in after)),
    )


def under(path: str, folders: Iterable[str]) -> bool:
    """Whether ``path`` lies inside one of ``folders`` (absolute, resolved paths)."""
    return any(path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
