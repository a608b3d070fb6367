"""The ``glassbox`` command line as a user runs it: a real process, real Gemma 3 270M."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from desktop_app import __version__

pytestmark = pytest.mark.e2e


def glassbox(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_version():
    out = glassbox("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"glassbox {__version__}"


def test_generate_json_streams_tokens_with_alternatives_then_done(gemma_path):
    out = glassbox(
        "generate",
        "--model",
        str(gemma_path),
        "--prompt",
        "The sky is",
        "--raw",
        "--temperature",
        "0",
        "--max-tokens",
        "6",
        "--candidates",
        "5",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    tokens, done = lines[:-1], lines[-1]
    assert len(tokens) == 6
    for i, t in enumerate(tokens):
        assert t["type"] == "token" and t["index"] == i
        assert set(t) == {"type", "index", "id", "text", "p", "candidates"}
        assert len(t["candidates"]) == 5
        for c in t["candidates"]:
            assert set(c) == {"id", "text", "logit", "p_raw", "p_final", "removed_by"}
            assert c["removed_by"] in (None, "greedy", "top_k", "top_p", "min_p")
        assert t["candidates"][0]["id"] == t["id"]
    assert done["type"] == "done" and done["finish_reason"] == "length"
    for key in ("prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s"):
        assert key in done
    assert done["completion_tokens"] == 6


def test_generate_plain_text_reads_standard_input(gemma_path):
    out = glassbox(
        "generate",
        "--model",
        str(gemma_path),
        "--raw",
        "--temperature",
        "0",
        "--max-tokens",
        "5",
        stdin="The capital of France is",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
    assert "tokens/s" in out.stderr


@pytest.mark.parametrize(
    "args,kind",
    [
        (["--model", "/no/such/model.gguf"], "model_file"),
        (["--model", "no-such-default-key"], "model_file"),
        (["--temperature", "7"], "invalid_request"),
        (["--candidates", "99"], "invalid_request"),
    ],
)
def test_errors_are_one_json_line_and_exit_2_never_a_traceback(gemma_path, args, kind):
    base = ["generate", "--prompt", "hi", "--json"]
    if "--model" not in args:
        base += ["--model", str(gemma_path)]
    out = glassbox(*base, *args)
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr
    (line,) = out.stdout.splitlines()
    err = json.loads(line)
    assert err["type"] == "error" and err["kind"] == kind and err["message"]


def test_a_file_that_is_not_a_model_is_refused_with_its_name(tmp_path):
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("these are my notes, not a model")
    out = glassbox("generate", "--model", str(bogus), "--prompt", "hi")
    assert out.returncode == 2
    assert "notes.gguf" in out.stderr and "Traceback" not in out.stderr


def test_models_info_json(gemma_path):
    out = glassbox("models", "info", str(gemma_path), "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["architecture"] == "gemma3" and info["quantization"] == "Q4_K_M"


def test_generate_drafts_with_prompt_lookup_and_a_draft_model(gemma_path):
    """Gemma drafts for itself (same vocabulary): every drafted token is marked and kept."""
    common = ["generate", "--model", str(gemma_path), "--raw", "--temperature", "0"]
    prompt = ["--prompt", "one two three four five six seven one two three four five six seven"]
    out = glassbox(
        *common, *prompt, "--max-tokens", "24", "--prompt-lookup", "--draft-model",
        str(gemma_path), "--max-draft", "4", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    tokens, done = lines[:-1], lines[-1]
    assert done["draft_proposed"] > 0 and done["draft_accepted"] > 0
    accepted = sum(1 for t in tokens if t.get("draft") == "accepted")
    assert accepted == done["draft_accepted"]
    assert len(tokens) == done["completion_tokens"] == 24


def test_a_draft_model_with_another_vocabulary_is_refused_in_one_line(gemma_path, tmp_path):
    from gguf_factory import write_tiny_llama

    tiny = write_tiny_llama(tmp_path / "tiny.gguf")
    out = glassbox(
        "generate", "--model", str(gemma_path), "--prompt", "Hi", "--raw",
        "--draft-model", str(tiny), "--max-tokens", "2",
    )  # fmt: skip
    assert out.returncode == 2
    assert "cannot draft for this model" in out.stderr and "vocabulary" in out.stderr
    assert "Traceback" not in out.stderr
