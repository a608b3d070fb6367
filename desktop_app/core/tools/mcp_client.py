"""MCP servers as tools, with the official ``mcp`` SDK: stdio servers (a command and its
arguments, run as a child process) and streamable HTTP servers (a URL and a token).

Each connection runs the SDK's asyncio session on a thread of its own, so the
tool loop (on the engine's thread, or the command line's main thread) calls tools
synchronously. Nothing waits without a bound: starting, listing and each call
have a timeout, a stop in the tool loop cancels a running call, and a server that
crashes, hangs or writes something that is not MCP ends in a :class:`ToolError`
that says so (with the end of the server's error output for a stdio server).
``close`` ends the session; the SDK then ends a stdio server's process (its
process group), killing it when it does not exit.

Every MCP tool asks for approval before it runs (see ``loop.read_only_builtins``),
whatever its own read-only hint says: a server describes itself, it is not trusted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from desktop_app.core.errors import InvalidRequestError
from desktop_app.core.tools.spec import (
    MAX_RESULT_CHARS,
    NAME_PATTERN,
    ToolError,
    ToolResult,
    ToolSpec,
    clip,
)

#: Seconds a server has to start and list its tools, and a call to answer.
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 60.0
#: The most tools taken from one server (a prompt holds every description).
MAX_TOOLS = 64
#: The longest description kept of a server's tool.
MAX_DESCRIPTION_CHARS = 1000
#: The longest message a stdio server may send. Reading one is a single parse that
#: holds the interpreter (about 5 ms a megabyte here), so a longer one ends the
#: connection unread instead of holding up the window.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: Seconds a stdio server has to exit once its input is closed, and then once told to.
_EXIT_WAIT_S = 2.0
_STDERR_TAIL = 600


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server: ``command`` (and ``args``, ``env``, ``cwd``) for stdio, or ``url``
    (and ``token``, sent as a bearer token) for streamable HTTP."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = ""
    url: str = ""
    token: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise InvalidRequestError(
                f"{self.name!r} is not a usable server name: letters, digits, '_', '-', '.'."
            )
        if bool(self.command) == bool(self.url):
            raise InvalidRequestError(
                f"MCP server {self.name!r}: give either a command (stdio) or a URL (HTTP)."
            )
        if self.url and not self.url.startswith(("http://", "https://")):
            raise InvalidRequestError(f"MCP server {self.name!r}: the URL must be http(s)://…")

    @property
    def transport(self) -> str:
        """ "stdio" or "http"."""
        return "stdio" if self.command else "http"


def load_config(path: Path) -> list[McpServerConfig]:
    """Servers from a JSON file: ``{"servers": [{"name": …, "command": …, "args": […]},
    {"name": …, "url": …, "token": …}]}``, or the ``{"mcpServers": {name: {…}}}``
    form other MCP clients use."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError(f"The MCP configuration {path} cannot be read ({exc}).") from exc
    return parse_config(data, str(path))


def parse_config(data: Any, where: str = "the MCP configuration") -> list[McpServerConfig]:
    """Servers from already-parsed configuration data (see ``load_config``)."""
    entries: list[tuple[str, Any]] = []
    if isinstance(data, dict) and isinstance(data.get("servers"), list):
        entries = [
            (str(e.get("name", "")) if isinstance(e, dict) else "", e) for e in data["servers"]
        ]
    elif isinstance(data, dict) and isinstance(data.get("mcpServers"), dict):
        entries = list(data["mcpServers"].items())
    else:
        raise InvalidRequestError(f'{where} needs a "servers" list (or an "mcpServers" object).')
    out: list[McpServerConfig] = []
    for name, entry in entries:
        if not isinstance(entry, dict):
            raise InvalidRequestError(f"{where}: server {name!r} is not an object.")
        args = entry.get("args", [])
        env = entry.get("env", {})
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise InvalidRequestError(f"{where}: the args of {name!r} must be a list of strings.")
        if not isinstance(env, dict):
            raise InvalidRequestError(f"{where}: the env of {name!r} must be an object.")
        out.append(
            McpServerConfig(
                name=name,
                command=str(entry.get("command", "")),
                args=tuple(args),
                env={str(k): str(v) for k, v in env.items()},
                cwd=str(entry.get("cwd", "")),
                url=str(entry.get("url", "")),
                token=str(entry.get("token", "")),
                enabled=bool(entry.get("enabled", True)),
            )
        )
    return out


class McpConnection:
    """A running session with one server; ``tools()`` are its tools as ``Tool`` objects."""

    def __init__(
        self,
        config: McpServerConfig,
        *,
        start_timeout_s: float = START_TIMEOUT_S,
        call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        self.config = config
        self.start_timeout_s = start_timeout_s
        self.call_timeout_s = call_timeout_s
        self.specs: tuple[ToolSpec, ...] = ()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._main: concurrent.futures.Future[None] | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[Any] | None = None
        self._finished = threading.Event()
        self._session: Any = None
        self._garbage: list[str] = []
        # A stdio server's error output, kept for the messages; closed by ``close``.
        self._errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115

    # -- life --------------------------------------------------------------------

    def start(self) -> tuple[ToolSpec, ...]:
        """Start (or connect to) the server and list its tools; raises ``ToolError``."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"mcp-{self.config.name}", daemon=True
        )
        self._thread.start()
        ready: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        self._main = asyncio.run_coroutine_threadsafe(self._run(ready), loop)
        try:
            listed = ready.result(timeout=self.start_timeout_s)
        except concurrent.futures.TimeoutError:
            # The message first: ``close`` drops the server's error output.
            why = self._why(f"did not start within {self.start_timeout_s:g} s")
            self.close()
            raise ToolError(why) from None
        except Exception as exc:
            why = self._why(f"could not be started ({_describe(exc)})")
            self.close()
            raise ToolError(why) from exc
        self.specs = tuple(self._spec(t) for t in listed[:MAX_TOOLS])
        return self.specs

    def close(self) -> None:
        """End the session (and a stdio server's process); waits a few seconds at most."""
        loop, main = self._loop, self._main
        if loop is None:
            return
        if main is not None and not main.done():
            if self._stop is not None:
                loop.call_soon_threadsafe(self._stop.set)
            if not self._finished.wait(5.0) and self._task is not None:
                # The server did not let the session end: cancel it; the SDK then
                # terminates (or kills) a stdio server's process.
                loop.call_soon_threadsafe(self._task.cancel)
                self._finished.wait(10.0)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if not loop.is_running():
            loop.close()
        self._loop = None
        self._errlog.close()

    def __enter__(self) -> McpConnection:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _run(self, ready: concurrent.futures.Future[list[Any]]) -> None:
        """The session, from start to ``close``, in one task (the SDK's cancel scopes
        must be left by the task that entered them)."""
        from mcp import ClientSession

        self._stop = asyncio.Event()
        self._task = asyncio.current_task()
        try:
            async with self._transport() as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(
                    read,
                    write,
                    # Starting is bounded by the start timeout; each call has its own.
                    read_timeout_seconds=timedelta(seconds=self.start_timeout_s),
                    message_handler=self._on_message,
                ) as session:
                    await session.initialize()
                    listed = await session.list_tools()
                    self._session = session
                    ready.set_result(list(listed.tools))
                    await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else ToolError("stopped"))
            if not isinstance(exc, Exception):
                raise
        finally:
            self._session = None
            self._finished.set()

    def _transport(self) -> Any:
        return self._stdio() if self.config.command else self._http()

    @contextlib.asynccontextmanager
    async def _stdio(self) -> AsyncIterator[Any]:
        """The stdio transport: the server as a child process in a session of its own,
        one JSON-RPC message a line each way.

        The SDK's ``stdio_client`` does the same without a bound on a line: a server
        writing hundreds of megabytes on one line would be gathered and parsed in
        one go. Here a line over ``MAX_MESSAGE_BYTES`` is not parsed; the
        connection is closed, which ends any call waiting with an error.
        """
        import anyio
        from mcp import types
        from mcp.client.stdio import get_default_environment
        from mcp.shared.message import SessionMessage

        cfg = self.config
        env = {**get_default_environment(), **cfg.env}
        process = await anyio.open_process(
            [cfg.command, *cfg.args],
            env=env,
            cwd=cfg.cwd or None,
            stderr=self._errlog,
            start_new_session=True,
        )
        to_session, read = anyio.create_memory_object_stream[Any](0)
        write, from_session = anyio.create_memory_object_stream[Any](0)

        async def deliver(line: bytes) -> None:
            if not line.strip():
                return
            try:
                message = types.JSONRPCMessage.model_validate_json(line)
            except ValueError as exc:  # pydantic's ValidationError, invalid JSON
                await to_session.send(exc)  # said by ``_on_message``
                return
            await to_session.send(SessionMessage(message))

        async def reader() -> None:
            assert process.stdout is not None
            pending = bytearray()
            try:
                async with to_session:
                    async for chunk in process.stdout:
                        *lines, rest = chunk.split(b"\n")
                        for line in lines:
                            pending += line
                            if len(pending) > MAX_MESSAGE_BYTES:
                                break
                            whole, pending = bytes(pending), bytearray()
                            await deliver(whole)
                        else:
                            pending += rest
                        if len(pending) > MAX_MESSAGE_BYTES:
                            break
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                await anyio.lowlevel.checkpoint()
            if len(pending) > MAX_MESSAGE_BYTES:
                # The session has seen its input end (a waiting call gets "Connection
                # closed"); the connection ends too, so no later call waits for it.
                self._garbage.append(
                    f"a message over {MAX_MESSAGE_BYTES // (1024 * 1024)} MB, not read; "
                    "the connection was closed"
                )
                if self._stop is not None:
                    self._stop.set()

        async def writer() -> None:
            assert process.stdin is not None
            try:
                async with from_session:
                    async for message in from_session:
                        text = message.message.model_dump_json(by_alias=True, exclude_none=True)
                        await process.stdin.send((text + "\n").encode())
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tasks, process:
            tasks.start_soon(reader)
            tasks.start_soon(writer)
            try:
                yield read, write
            finally:
                with contextlib.suppress(Exception):
                    await process.stdin.aclose()  # type: ignore[union-attr]
                await _end(process)
                for stream in (read, write, to_session, from_session):
                    await stream.aclose()

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[Any]:
        """The streamable HTTP transport, with the token and this connection's timeouts."""
        import httpx
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        cfg = self.config
        headers = {"Authorization": f"Bearer {cfg.token}"} if cfg.token else None
        timeout = httpx.Timeout(self.start_timeout_s, read=self.call_timeout_s + 5.0)
        async with (
            create_mcp_http_client(headers=headers, timeout=timeout) as client,
            streamable_http_client(cfg.url, http_client=client) as streams,
        ):
            yield streams

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            self._garbage.append(_describe(message)[:200])

    # -- tools -------------------------------------------------------------------

    def _spec(self, tool: Any) -> ToolSpec:
        schema = tool.inputSchema if isinstance(tool.inputSchema, dict) else {}
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}
        return ToolSpec(
            name=tool.name,
            description=(tool.description or "")[:MAX_DESCRIPTION_CHARS],
            parameters=schema,
            read_only=bool(tool.annotations and tool.annotations.readOnlyHint),
            source=f"mcp:{self.config.name}",
        )

    @property
    def alive(self) -> bool:
        """Whether the session still runs (not closed, crashed or cut off)."""
        return self._loop is not None and self._main is not None and not self._main.done()

    def tools(self) -> list[McpTool]:
        """The server's tools, to give the tool loop."""
        return [McpTool(spec, self) for spec in self.specs]

    def call(
        self, name: str, arguments: Mapping[str, Any], cancel: threading.Event | None = None
    ) -> ToolResult:
        """Call a tool; a server error result comes back with ``is_error``. A crashed,
        silent or unintelligible server raises ``ToolError``; ``cancel`` stops waiting."""
        loop, session = self._loop, self._session
        if loop is None or session is None or (self._main is not None and self._main.done()):
            raise ToolError(self._why("is not running"))
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(
                name, dict(arguments), read_timeout_seconds=timedelta(seconds=self.call_timeout_s)
            ),
            loop,
        )
        waited = 0.0
        while True:
            try:
                result = future.result(timeout=0.1)
                break
            except concurrent.futures.TimeoutError:
                waited += 0.1
                if cancel is not None and cancel.is_set():
                    future.cancel()
                    raise ToolError("The call was cancelled.") from None
                if self._main is not None and self._main.done():
                    future.cancel()
                    raise ToolError(self._why("stopped during the call")) from None
                if waited > self.call_timeout_s + 2.0:
                    future.cancel()
                    raise ToolError(
                        self._why(f"did not answer within {self.call_timeout_s:g} s")
                    ) from None
            except Exception as exc:
                raise ToolError(self._why(f"failed the call ({_describe(exc)})")) from exc
        return _result(result)

    def _why(self, what: str) -> str:
        """A message about the server: what happened, and what it said on the way."""
        cfg = self.config
        who = f"The MCP server {cfg.name!r} ({cfg.command or cfg.url})"
        parts = [f"{who} {what}."]
        if self._garbage:
            parts.append(f"It sent something that is not MCP: {self._garbage[-1]}")
        tail = self._stderr_tail()
        if tail:
            parts.append(f"Its error output ends with: {tail}")
        return " ".join(parts)

    def _stderr_tail(self) -> str:
        try:
            self._errlog.flush()
            self._errlog.seek(0, 2)
            size = self._errlog.tell()
            self._errlog.seek(max(0, size - 4 * _STDERR_TAIL))
            return self._errlog.read()[-_STDERR_TAIL:].strip()
        except (OSError, ValueError):
            return ""


@dataclass(frozen=True)
class McpTool:
    """One tool of a connected server."""

    spec: ToolSpec
    connection: McpConnection

    def run(self, arguments: Mapping[str, Any], cancel: threading.Event) -> ToolResult:
        """Call the tool on its server."""
        return self.connection.call(self.spec.name, arguments, cancel)


def _result(result: Any) -> ToolResult:
    """A ``CallToolResult`` as text: text parts as they are, other parts named."""
    parts: list[str] = []
    for item in result.content or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(str(item.text))
        elif kind == "resource" and hasattr(item.resource, "text"):
            parts.append(str(item.resource.text))
        else:
            parts.append(f"[{kind or 'unknown'} content left out]")
        if sum(len(p) for p in parts) > 2 * MAX_RESULT_CHARS:
            break
    if not parts and result.structuredContent is not None:
        parts.append(
            json.dumps(result.structuredContent, ensure_ascii=False)[: 2 * MAX_RESULT_CHARS]
        )
    text = clip("\n".join(parts))
    return ToolResult(text, is_error=bool(result.isError))


async def _end(process: Any) -> None:
    """Let a stdio server exit once its input is closed; then end its process group,
    killing it when it does not exit."""
    import anyio

    killpg = getattr(os, "killpg", None)  # the process group, where there is one
    for sig in (None, signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        if sig is not None:
            with contextlib.suppress(OSError):  # gone already, or not ours to end
                if killpg is not None:
                    killpg(process.pid, sig)
                else:
                    process.kill()
        with anyio.move_on_after(_EXIT_WAIT_S):
            await process.wait()
            return


def _describe(exc: BaseException) -> str:
    """An exception as a short text; the SDK's exception groups by their first cause."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    return text[:300]


def connect_all(configs: Sequence[McpServerConfig]) -> tuple[list[McpConnection], list[str]]:
    """Start every enabled server; those that fail are left out with their message."""
    connections: list[McpConnection] = []
    errors: list[str] = []
    for cfg in configs:
        if not cfg.enabled:
            continue
        conn = McpConnection(cfg)
        try:
            conn.start()
        except ToolError as exc:
            errors.append(str(exc))
            continue
        connections.append(conn)
    return connections, errors
