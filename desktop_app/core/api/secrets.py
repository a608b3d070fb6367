"""Secrets for the API and remote engines: never on the command line.

A token or key given as a command-line argument can be read by every local user in
``/proc/<pid>/cmdline``. They come instead from an environment variable or a file,
and the local API always has a token: without one, anyone on the machine could
ask it for passages of the user's documents or spend the remote key. When none is
given, one is generated once and kept in the data folder, readable by its owner
only (0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from desktop_app.core import paths
from desktop_app.core.errors import InvalidRequestError

#: The file of the generated API token, in the data folder.
TOKEN_FILE = "api-token"
#: Environment variables read for the API token and a remote server's key.
TOKEN_ENV = "GLASSBOX_API_TOKEN"
REMOTE_KEY_ENV = "GLASSBOX_REMOTE_API_KEY"
#: The longest secret read from a file (a token is a line, not a document).
MAX_SECRET_BYTES = 4000


def token_path() -> Path:
    """Where the generated API token is kept."""
    return paths.data_dir() / TOKEN_FILE


def read_secret_file(path: Path) -> str:
    """The first line of ``path``, stripped; refused when empty or implausibly long."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise InvalidRequestError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if len(raw) > MAX_SECRET_BYTES:
        raise InvalidRequestError(f"{path} is too long to hold a token or key.")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    value = lines[0].strip() if lines else ""
    if not value:
        raise InvalidRequestError(f"{path} is empty: write the token or key on its first line.")
    return value


def secret_from(env: str, file: Path | None = None) -> str | None:
    """A secret from ``file`` when given, else from the environment variable ``env``."""
    if file is not None:
        return read_secret_file(file)
    value = os.environ.get(env, "").strip()
    return value or None


def stored_token(path: Path | None = None) -> str:
    """The API token kept in the data folder, generated (0600) on first use."""
    path = path or token_path()
    if path.exists():
        return read_secret_file(path)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret_file(path)  # another process wrote it first
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def api_token(given: str | None = None) -> str:
    """The token the API requires: the one given (settings, a file, the environment),
    else the stored one."""
    given = (given or "").strip() or secret_from(TOKEN_ENV)
    return given or stored_token()
