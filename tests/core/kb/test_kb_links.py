"""Links in an ingested or watched folder never bring in files from outside it."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_app.core.kb.ingest import LINK_OUTSIDE
from desktop_app.core.kb.knowledge_base import KnowledgeBase
from desktop_app.core.kb.parse_host import InProcessParser
from desktop_app.core.kb.watch import scan


def test_a_link_to_a_file_outside_the_folder_is_refused_and_reported(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    secret = tmp_path / "home" / "settings.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"api_key": "sk-secretvalue1234"}), "utf-8")
    docs = tmp_path / "unpacked"
    (docs / "sub").mkdir(parents=True)
    (docs / "readme.txt").write_text("Release notes for the zephyrine tool.", "utf-8")
    (docs / "notes.json").symlink_to(secret)
    (docs / "sub" / "up.txt").symlink_to("../../home/settings.json")
    (docs / "same.txt").symlink_to(docs / "readme.txt")  # inside the folder: fine

    report = kb.ingest([docs], "c", InProcessParser())

    assert report.indexed == 1  # readme.txt (same.txt resolves to it)
    reasons = dict(report.failed)
    assert reasons == {
        str(docs / "notes.json"): LINK_OUTSIDE,
        str(docs / "sub" / "up.txt"): LINK_OUTSIDE,
    }
    assert report.files_total == 3 and report.as_dict()["failed"]
    found = kb.search("sk-secretvalue1234 api_key", "c", 5)
    assert found and not any("secretvalue" in h.chunk.text for h in found)
    assert [h.chunk.path for h in kb.search("zephyrine", "c", 5)] == [str(docs / "readme.txt")]
    # A watched folder's scan does not follow them either.
    assert set(scan([docs])) == {str(docs / "readme.txt")}
