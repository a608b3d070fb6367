"""Tool settings: the built-in tools a chat starts with, the call limit, MCP servers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from desktop_app.core.settings import Settings


def test_by_default_a_new_chat_has_no_tools() -> None:
    settings = Settings()
    assert settings.tools_builtin == []
    assert Settings(tools_builtin=["calculator", "datetime"]).tools_builtin == [
        "calculator",
        "datetime",
    ]
    assert settings.tools_max_steps == 4
    assert settings.mcp_servers() == []


def test_servers_are_checked_and_come_back_as_configurations() -> None:
    settings = Settings(
        tool_servers=[
            {"name": "notes", "command": "python", "args": ["notes.py"]},
            {"name": "web", "url": "https://example.org/mcp", "token": "t"},
        ]
    )
    stdio, http = settings.mcp_servers()
    assert stdio.transport == "stdio" and http.transport == "http"
    # Saved and read back as plain data.
    again = Settings.model_validate_json(settings.model_dump_json())
    assert [c.name for c in again.mcp_servers()] == ["notes", "web"]


@pytest.mark.parametrize(
    "values",
    [
        {"tools_builtin": ["shell"]},
        {"tools_max_steps": 99},
        {"tool_servers": [{"name": "x"}]},
        {"tool_servers": [{"name": "x", "url": "ftp://x"}]},
        {"tool_servers": [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]},
    ],
)
def test_bad_tool_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**values)  # type: ignore[arg-type]
