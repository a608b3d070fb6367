"""Where a collection's vectors live: the embedded Chroma folder, or a Chroma server.

A location is ``None`` (the embedded ``PersistentClient`` in the data folder) or a
normalised server URL ``http(s)://host:port``. Only the vectors go to a server:
documents, chunks, their text and their vectors stay in the local SQLite, which
can fill an empty server again (``kb check`` / ``kb rebuild``).
"""

from __future__ import annotations

import socket
import urllib.parse

from desktop_app.core.kb.errors import ChromaServerError, KnowledgeBaseError

#: What ``--json`` outputs print for a collection kept in the data folder.
LOCAL = "local"
#: Seconds allowed to open a connection to a server (a host that drops packets
#: would otherwise hold a search for the operating system's two minutes).
CONNECT_TIMEOUT_S = 3.0
#: Seconds allowed for one request once connected (a batch of 1,000 vectors included).
REQUEST_TIMEOUT_S = 30.0
#: The port ``chroma run`` listens on when none is given.
DEFAULT_PORT = 8000


def parse_chroma_url(text: str) -> str:
    """A Chroma server URL checked and normalised to ``scheme://host:port``.

    Only ``http`` and ``https`` with a host are accepted; the port defaults to
    8000 (Chroma's). Paths, queries, fragments and credentials are refused: the
    message says what was wrong.
    """
    raw = text.strip()
    example = "Give it like http://127.0.0.1:8000."
    try:
        parts = urllib.parse.urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise KnowledgeBaseError(
            f"{raw!r} is not a valid Chroma server URL ({exc}). {example}"
        ) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise KnowledgeBaseError(
            f"{raw!r} is not a Chroma server URL: it must start with http:// or https://. {example}"
        )
    host = parts.hostname
    if not host:
        raise KnowledgeBaseError(f"{raw!r} names no host. {example}")
    if parts.username or parts.password:
        raise KnowledgeBaseError(f"{raw!r}: credentials in the URL are not supported.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise KnowledgeBaseError(
            f"{raw!r}: a Chroma server URL has no path, query or fragment. {example}"
        )
    if port == 0:
        raise KnowledgeBaseError(f"{raw!r}: the port must be between 1 and 65535.")
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{shown}:{port or DEFAULT_PORT}"


def describe(url: str | None) -> str:
    """The location as ``--json`` outputs give it: the URL, or ``"local"``."""
    return url or LOCAL


def host_port(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a normalised URL."""
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "", parts.port or DEFAULT_PORT, parts.scheme == "https"


def unreachable(url: str, reason: str) -> ChromaServerError:
    """The error shown when a server cannot be used, naming it and what to do."""
    return ChromaServerError(
        f"The Chroma server at {url} is not reachable ({reason}). Start it (for example "
        f"`chroma run --path FOLDER --port {host_port(url)[1]}`) or check the URL, then run "
        "the command again: what was ingested is kept in the local database, and an "
        "interrupted ingestion continues where it stopped. To stop using this server: "
        "`glassbox kb move NAME --local` (Knowledge → Location… in the window).",
        url,
    )


def probe(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Connect to the server and ask its heartbeat, or raise ``ChromaServerError``.

    Chroma's client waits without a limit while it connects and checks its tenant;
    this bounds that wait before the client is made.
    """
    import httpx

    host, port, _ssl = host_port(url)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except ConnectionRefusedError:
        raise unreachable(url, "connection refused") from None
    except TimeoutError:
        raise unreachable(url, f"no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise unreachable(url, exc.strerror or str(exc)) from None
    try:
        answer = httpx.get(
            f"{url}/api/v2/heartbeat", timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=timeout_s)
        )
    except httpx.HTTPError as exc:
        raise unreachable(url, reason_of(exc) or str(exc)) from None
    if answer.status_code != 200:
        raise ChromaServerError(
            f"{url} answered HTTP {answer.status_code} to a Chroma heartbeat: is it a Chroma "
            "server (version 1.x, started with `chroma run`)?",
            url,
        )


def reason_of(exc: BaseException) -> str | None:
    """Why a request to a server failed, when it is the network's fault (else None)."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        return "connection refused" if "refused" in text else f"cannot connect: {exc}"
    if isinstance(exc, httpx.TransportError):
        return f"the connection failed: {exc}"
    if isinstance(exc, ValueError) and "could not connect" in str(exc).lower():
        return "connection refused"
    if isinstance(exc, ConnectionError | TimeoutError):
        return str(exc) or type(exc).__name__
    return None
