"""Prompt templates of the task panels, as data a user can read, edit and reset.

Each template is plain text with ``{name}`` placeholders. Only the names a task
passes are replaced, so a user's template may contain other braces (a JSON
example, say) without escaping them. User overrides live in one JSON file in the
data folder (``task_templates.json``: ``{"name": "text", …}``); a name missing
there falls back to its default, which is how "reset to default" works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.paths import data_dir

#: The default templates, by name. The task modules say which placeholders each gets.
DEFAULT_TEMPLATES: dict[str, str] = {
    "classify.system": (
        "You classify texts. Answer with exactly one of these labels and nothing else:\n{labels}"
    ),
    "classify.user": "Text:\n{text}\n\nLabel:",
    "extract.system": (
        "You extract information from documents into JSON. Use only what the document "
        "says. Fields:\n{fields}\nWrite null for an optional field the document does not "
        "give. Dates are YYYY-MM-DD; numbers are plain digits without currency signs."
    ),
    "extract.user": "Document:\n{text}",
    "summarize.system": (
        "You write faithful summaries. Use only facts from the text. {length} "
        "Write for {audience}. Write in {language}."
    ),
    "summarize.user": "Text to summarize:\n{text}",
    "summarize.part": (
        "This is part {part} of {parts} of a longer text. Summarize this part only.\n\n{text}"
    ),
    "summarize.combine": (
        "Below are summaries of the consecutive parts of one text, each headed by its "
        "part number. Combine them into one summary of the whole text. {length} "
        "After each point, cite the part or parts it comes from, like [part 2] or "
        "[part 1, part 3].\n\n{text}"
    ),
    "rewrite.system": (
        "You rewrite text as asked. Keep the meaning and the facts. Reply with the "
        "rewritten text only, without comments or quotation marks."
    ),
    "rewrite.user": "{instruction}\n\nText:\n{text}",
}

#: The instruction of each rewrite mode (placed in ``rewrite.user`` as ``{instruction}``).
REWRITE_INSTRUCTIONS: dict[str, str] = {
    "polish": "Polish this text: make it clear and fluent, keep its tone.",
    "fix": "Fix the grammar, spelling and punctuation of this text; change nothing else.",
    "simplify": "Rewrite this text in simpler words and shorter sentences.",
    "formal": "Rewrite this text in a formal tone.",
    "friendly": "Rewrite this text in a warm, friendly tone.",
    "concise": "Rewrite this text to be as concise as possible without losing information.",
    "translate": "Translate this text into {language}.",
}

TEMPLATES_FILE = "task_templates.json"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def templates_path() -> Path:
    """Where user overrides are saved."""
    return data_dir() / TEMPLATES_FILE


def render(template: str, **values: str) -> str:
    """Fill ``{name}`` placeholders named in ``values``; other braces stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def load_overrides(path: Path | None = None) -> dict[str, str]:
    """The user's overrides (empty when the file does not exist).

    A file that is not a JSON object of strings is refused with a message naming
    it, rather than silently ignored: the user edited it and expects it to apply.
    """
    path = path or templates_path()
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(
            f"The task templates file {path} cannot be read ({exc})."
        ) from exc
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise InvalidRequestError(f"{path} must be a JSON object of template names to text.")
    unknown = sorted(set(raw) - set(DEFAULT_TEMPLATES))
    if unknown:
        raise InvalidRequestError(
            f"{path} names unknown templates: {', '.join(unknown)}. "
            f"Known: {', '.join(sorted(DEFAULT_TEMPLATES))}."
        )
    return dict(raw)


def load_templates(path: Path | None = None) -> dict[str, str]:
    """Every template: the defaults with the user's overrides on top."""
    return {**DEFAULT_TEMPLATES, **load_overrides(path)}


def save_overrides(overrides: Mapping[str, str], path: Path | None = None) -> Path:
    """Save the overrides; a template equal to its default is not stored (it is a reset)."""
    path = path or templates_path()
    unknown = sorted(set(overrides) - set(DEFAULT_TEMPLATES))
    if unknown:
        raise InvalidRequestError(f"Unknown task templates: {', '.join(unknown)}.")
    kept = {k: v for k, v in sorted(overrides.items()) if v != DEFAULT_TEMPLATES[k]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(kept, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def reset_template(name: str, path: Path | None = None) -> str:
    """Drop the user's override of ``name``; return the default now in effect."""
    if name not in DEFAULT_TEMPLATES:
        raise InvalidRequestError(f"Unknown task template {name!r}.")
    overrides = load_overrides(path)
    overrides.pop(name, None)
    save_overrides(overrides, path)
    return DEFAULT_TEMPLATES[name]
