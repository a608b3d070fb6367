"""The user's settings: a typed, bounded model saved as JSON in the data folder.

A settings file must never stop the app from starting. A file that cannot be
read, is not JSON or holds values out of bounds is moved aside to
``settings.json.bad`` (so the user can still recover it by hand) and the
defaults are used. Saving writes a temporary file, fsyncs it and renames it over
the old one, so a crash mid-write leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from desktop_app.core import paths
from desktop_app.core.engine.protocol import LORA_SCALE_MAX, LORA_SCALE_MIN, MAX_DRAFT_LIMIT
from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.sampling import MAX_CANDIDATES, SamplingParams

log = logging.getLogger(__name__)

BAD_SUFFIX = ".bad"

#: Longer than any real chat template (the largest are about 10 KB).
MAX_TEMPLATE_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class LoadOverrides:
    """What the model panel sets for one load; applied onto the settings and kept.

    ``n_threads`` None is "Auto"; ``chat_template_override`` None uses the file's
    template; ``lora_path`` None loads no adapter; ``draft_model`` None loads no
    draft model (else a default model's key or a GGUF path).
    """

    n_ctx: int = 4096
    n_gpu_layers: int = 0
    n_threads: int | None = None
    chat_template_override: str | None = None
    lora_path: str | None = None
    lora_scale: float = 1.0
    draft_model: str | None = None


class Settings(BaseModel):
    """Everything Glassbox remembers between runs (window geometry aside).

    ``sampling`` holds only the sampling values the user changed; it is checked
    by building a :class:`SamplingParams` from it, so the bounds live in one place.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True, frozen=False)

    last_model: str | None = None
    n_ctx: int = Field(default=4096, ge=256, le=131072)
    n_threads: int | None = Field(default=None, ge=1, le=1024)
    n_threads_batch: int | None = Field(default=None, ge=1, le=1024)
    # Layers offloaded to a GPU when llama-cpp-python was built with one (-1: all).
    n_gpu_layers: int = Field(default=0, ge=-1, le=1000)
    candidates: int = Field(default=20, ge=0, le=MAX_CANDIDATES)
    sampling: dict[str, Any] = Field(default_factory=dict)
    # Replaces the model file's chat template when set (a broken or missing one).
    chat_template_override: str | None = Field(default=None, max_length=MAX_TEMPLATE_CHARS)
    lora_path: str | None = None
    lora_scale: float = Field(default=1.0, ge=LORA_SCALE_MIN, le=LORA_SCALE_MAX)
    # Speculative decoding (Model panel → Speed): a draft model loaded beside the
    # model (a default model's key or a GGUF path; None: none), proposals from the
    # prompt and the reply so far, and the longest run of proposed tokens.
    draft_model: str | None = None
    prompt_lookup: bool = False
    max_draft: int = Field(default=8, ge=1, le=MAX_DRAFT_LIMIT)
    # "system" follows the desktop's light or dark palette.
    theme: Literal["system", "light", "dark"] = "system"
    # "system" follows the desktop's language; "pseudo" is the developers' stretched
    # pseudo-translation for checking layouts.
    language: Literal["system", "en", "zh_CN", "pseudo"] = "system"
    # "openai": replies come from an OpenAI-compatible server instead of a local model.
    # The API key is kept in this file, which is written readable by the user only.
    engine: Literal["local", "openai"] = "local"
    remote_base_url: str = Field(default="", max_length=2000)
    remote_api_key: str | None = Field(default=None, max_length=4000)
    remote_model: str | None = Field(default=None, max_length=1000)
    remote_timeout_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    # Glassbox's own OpenAI-compatible API, served from the window (off by default;
    # loopback only unless other computers are allowed).
    api_enabled: bool = False
    api_port: int = Field(default=8765, ge=1, le=65535)
    api_allow_remote: bool = False
    api_token: str | None = Field(default=None, max_length=4000)
    # Tools (issue 17): the built-in tools a new chat starts with, the most calls in
    # one reply, and the MCP servers (the --mcp file's "servers" entries). None by
    # default: a chat with tools on gets them described in every prompt, and a small
    # model then calls them where no tool is needed (see glassbox eval tools).
    tools_builtin: list[str] = Field(default_factory=list)
    tools_max_steps: int = Field(default=4, ge=0, le=20)
    tool_servers: list[dict[str, Any]] = Field(default_factory=list, max_length=32)

    @field_validator("tools_builtin")
    @classmethod
    def _check_builtin_tools(cls, names: list[str]) -> list[str]:
        from desktop_app.core.tools.builtin import BUILTIN_NAMES

        unknown = [n for n in names if n not in BUILTIN_NAMES]
        if unknown:
            raise ValueError(f"unknown built-in tools: {', '.join(unknown)}")
        return list(dict.fromkeys(names))

    @field_validator("tool_servers")
    @classmethod
    def _check_tool_servers(cls, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from desktop_app.core.tools.mcp_client import parse_config

        try:
            configs = parse_config({"servers": servers}, "the tool servers")
        except InvalidRequestError as exc:
            raise ValueError(str(exc)) from exc
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise ValueError("two tool servers have the same name")
        return servers

    def mcp_servers(self) -> list[Any]:
        """The MCP servers as configurations (``McpServerConfig``)."""
        from desktop_app.core.tools.mcp_client import parse_config

        return parse_config({"servers": self.tool_servers}, "the tool servers")

    @field_validator(
        "chat_template_override",
        "lora_path",
        "draft_model",
        "remote_api_key",
        "remote_model",
        "api_token",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        # An emptied text field means "none", not an empty template or path.
        return value if value and value.strip() else None

    @field_validator("sampling")
    @classmethod
    def _check_sampling(cls, values: dict[str, Any]) -> dict[str, Any]:
        # SamplingParams owns the names and bounds; pydantic reports only ValueErrors
        # as validation failures, so its InvalidRequestError is converted.
        try:
            SamplingParams.from_record(values)
        except InvalidRequestError as exc:
            raise ValueError(str(exc)) from exc
        return values

    def sampling_params(self) -> SamplingParams:
        """The sampling parameters: defaults overridden by the saved values."""
        return SamplingParams.from_record(self.sampling)

    def with_sampling(self, params: SamplingParams) -> Settings:
        """A copy that remembers ``params`` (only the values that differ from the defaults)."""
        default = SamplingParams().to_record()
        changed = {k: v for k, v in params.to_record().items() if v != default[k]}
        return self.model_copy(update={"sampling": changed})

    def with_overrides(self, overrides: LoadOverrides) -> Settings:
        """A validated copy with the model panel's choices for a load.

        Raises ValidationError when a value is out of bounds.
        """
        data = self.model_dump()
        data.update(asdict(overrides))
        return Settings.model_validate(data)


def field_bounds(name: str) -> tuple[float | None, float | None]:
    """The lower and upper bound of a numeric setting, for widgets built from them."""
    low: float | None = None
    high: float | None = None
    for rule in Settings.model_fields[name].metadata:
        if isinstance(rule, annotated_types.Ge):
            low = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Le):
            high = float(rule.le)  # type: ignore[arg-type]
    return low, high


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; defaults when it is absent, unreadable or invalid.

    A file that exists but cannot be used is moved to ``<name>.bad`` first, so that
    the next save does not silently destroy what the user had.
    """
    target = paths.settings_path() if path is None else Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        _set_aside(target, f"cannot be read ({exc})")
        return Settings()
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the file does not hold a JSON object")
        return Settings.model_validate(data)
    except (json.JSONDecodeError, ValidationError, ValueError) as exc:
        _set_aside(target, f"is not valid ({exc})")
        return Settings()


def _set_aside(target: Path, why: str) -> None:
    bad = target.with_name(target.name + BAD_SUFFIX)
    try:
        os.replace(target, bad)
    except OSError as exc:
        log.warning("Settings file %s %s and could not be moved aside: %s", target, why, exc)
        return
    log.warning("Settings file %s %s; moved to %s, using defaults.", target, why, bad)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write ``settings`` atomically (temporary file, fsync, rename), readable by the user only.

    The file may hold an API key, so it is created with permissions 0600.
    Raises OSError when the folder cannot be written; the old file is then untouched.
    """
    target = paths.settings_path() if path is None else Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(settings.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        # Never leave a stray temporary file next to the settings.
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable on POSIX; Windows cannot open a folder for fsync.
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        log.debug("cannot open %s to fsync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("cannot fsync %s: %s", folder, exc)
    finally:
        os.close(fd)
