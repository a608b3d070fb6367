"""``glassbox serve``'s sampler flags are defaults: a request's own fields win."""

from __future__ import annotations

import json
from typing import Any

from desktop_app.core.sampling import SamplingParams, llama_server_fields
from desktop_app.workers.api.server import _Job
from tests.workers.api.test_server_limits import CHAT, ThreadBackend, request, serving


class RecordingBackend(ThreadBackend):
    """Keeps each request it was given; its sampling defaults are the server's flags."""

    def __init__(self, sampling: dict[str, Any]) -> None:
        super().__init__()
        self.sampling = sampling
        self.requests: list[Any] = []

    def enqueue(self, kind: str, payload: Any) -> _Job:
        self.requests.append(payload)
        return super().enqueue(kind, payload)


def test_server_defaults_apply_unless_the_request_sets_them() -> None:
    defaults = llama_server_fields(SamplingParams(mirostat=2, mirostat_tau=3.0, typical_p=0.8))
    assert defaults["mirostat"] == 2 and defaults["typical_p"] == 0.8
    backend = RecordingBackend(defaults)
    with serving(backend) as httpd:
        port = httpd.server_address[1]
        status, body = request(port, "POST", "/v1/chat/completions", CHAT)
        assert status == 200, body
        status, body = request(
            port, "POST", "/v1/chat/completions", {**CHAT, "mirostat": 0, "typical_p": 1.0}
        )
        assert status == 200, body
        status, body = request(
            port, "POST", "/v1/completions", {"model": "fake.gguf", "prompt": "Hi"}
        )
        assert status == 200, json.loads(body)
    first, second, third = (r.params for r in backend.requests)
    assert (first.mirostat, first.mirostat_tau, first.typical_p) == (2, 3.0, 0.8)
    assert (second.mirostat, second.typical_p) == (0, 1.0)
    assert third.mirostat == 2


def test_no_flags_send_nothing_new() -> None:
    assert llama_server_fields(SamplingParams()) == {}
