"""The headless API server (``glassbox serve``): what it refuses before loading, and no Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.engine.protocol import EngineConfig
from desktop_app.core.errors import GlassboxError, InvalidRequestError
from desktop_app.workers.api.server import ApiServer


def test_a_network_address_needs_allow_remote() -> None:
    with pytest.raises(InvalidRequestError, match="allow-remote"):
        ApiServer(EngineConfig("m.gguf"), host="0.0.0.0")


def test_the_headless_server_refuses_the_network_without_a_token(glassbox_home: Path) -> None:
    for host in ("0.0.0.0", "::", "192.168.1.20"):
        with pytest.raises(GlassboxError, match="token"):
            ApiServer(EngineConfig("m.gguf"), host=host, allow_remote=True, token=None)
    # Loopback gets the stored token when none is given; a token makes the network fine.
    local = ApiServer(EngineConfig("m.gguf"), host="127.0.0.1", allow_remote=True)
    assert local.token and local.token == (glassbox_home / "api-token").read_text().strip()
    ApiServer(EngineConfig("m.gguf"), host="0.0.0.0", allow_remote=True, token="t")


def test_glassbox_serve_loads_no_qt() -> None:
    # A server without a display must not need Qt's libraries at all.
    code = (
        "import sys, desktop_app.cli.serve, desktop_app.workers.api.server; "
        "sys.exit('PySide6' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_knowledge_answers_cad_field_is_checked() -> None:
    from desktop_app.workers.api.server import _cad_alpha

    assert _cad_alpha(None) is None
    assert _cad_alpha({"alpha": 0.5}) == 0.5
    assert _cad_alpha({"alpha": 0}) == 0.0
    for bad in ({"alpha": "strong"}, {"alpha": True}, {"alpha": 9}, {}, 0.5, [0.5]):
        with pytest.raises(InvalidRequestError, match="alpha"):
            _cad_alpha(bad)
