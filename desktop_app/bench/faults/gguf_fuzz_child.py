"""The worker child of the ``gguf-fuzz`` check: inspects one GGUF per line of stdin.

Each line names a file; the answer is one JSON line on stdout:
``{"verdict": "refused" | "parsed" | "insane" | "error", "detail": ...}``. A crash or
a hang shows up in the parent as a missing answer, which is the point of running
the parser here instead of in the bench itself.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from desktop_app.core.errors import ModelFileError
from desktop_app.core.models.gguf_info import GGUFInfo, inspect_gguf

#: More tensors or entries than the parser's own caps: a parse that returns them is wrong.
_MAX_COUNT = 1 << 20


def insane(info: GGUFInfo, path: str) -> str:
    """Why the values ``inspect_gguf`` returned cannot describe the file ("" when sane)."""
    size = os.path.getsize(path)
    if info.size_bytes != size:
        return f"size_bytes {info.size_bytes} but the file has {size}"
    if not 0 <= info.tensor_count <= _MAX_COUNT or not 0 <= info.kv_count <= _MAX_COUNT:
        return f"counts {info.tensor_count} tensors / {info.kv_count} entries"
    if info.vocab_size is not None and info.vocab_size * 8 > size and info.vocab_size > 1 << 24:
        return f"vocabulary of {info.vocab_size} tokens in {size} bytes"
    if not info.architecture:
        return "no architecture"
    try:
        json.dumps(info.to_dict(), allow_nan=True)
    except (TypeError, ValueError) as exc:
        return f"not serialisable: {exc}"
    return ""


def answer(path: str) -> dict[str, Any]:
    """Inspect ``path`` and say how it went."""
    try:
        info = inspect_gguf(path)
    except ModelFileError as exc:
        message = str(exc)
        if not message.strip() or path not in message:
            return {"verdict": "error", "detail": f"a refusal that names no file: {message!r}"}
        return {"verdict": "refused", "detail": message[:300]}
    except Exception as exc:  # noqa: BLE001 - any other exception is what the check counts
        return {"verdict": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    why = insane(info, path)
    if why:
        return {"verdict": "insane", "detail": why}
    return {"verdict": "parsed", "detail": ""}


def main() -> int:
    """Answer each path on stdin until it closes."""
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        sys.stdout.write(json.dumps(answer(path)) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
