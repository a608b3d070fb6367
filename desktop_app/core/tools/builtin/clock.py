"""The current date and time, in the computer's time zone or a named one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from desktop_app.core.tools.spec import FunctionTool, ToolError, ToolResult, ToolSpec

SPEC = ToolSpec(
    name="current_datetime",
    description=(
        "The current date, time and weekday. Optionally in an IANA time zone such as "
        "'Europe/Paris' or 'Asia/Shanghai' (default: this computer's)."
    ),
    parameters={
        "type": "object",
        "properties": {
            "timezone": {
                "type": "string",
                "maxLength": 64,
                "description": "An IANA time zone name; leave out for local time.",
            }
        },
    },
    read_only=True,
)


def now_text(now: dt.datetime, timezone: str = "") -> str:
    """``now`` (aware) as the tool reports it, converted to ``timezone`` when given."""
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            now = now.astimezone(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ToolError(f"{timezone!r} is not a known time zone.") from exc
    return (
        f"{now:%A %Y-%m-%d %H:%M:%S} (UTC{now:%z}"
        + (f", {timezone}" if timezone else ", local time")
        + f"); ISO 8601: {now.isoformat(timespec='seconds')}"
    )


def current_datetime(clock: Callable[[], dt.datetime] | None = None) -> FunctionTool:
    """The date-and-time tool; ``clock`` (an aware datetime) stands in for the clock in tests."""

    def run(arguments: Mapping[str, Any]) -> ToolResult:
        now = clock() if clock is not None else dt.datetime.now().astimezone()
        return ToolResult(now_text(now, str(arguments.get("timezone", "") or "")))

    return FunctionTool(SPEC, run)
