"""What an engine can report and do, so the window can say what is unavailable.

A local llama.cpp engine reports everything: sampler stages, scoring from
logits, grammars, a forced start of the reply. A remote OpenAI-compatible
server reports the log-probabilities of at most 20 alternatives per token and
nothing else; a GBNF grammar is honoured by llama.cpp's server only.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.engine.openai_remote import MAX_REMOTE_CANDIDATES, is_remote
from desktop_app.core.engine.protocol import ModelLoaded
from desktop_app.core.sampling import MAX_CANDIDATES

#: What the token view says for a remote engine.
SAMPLER_STAGES_UNAVAILABLE = "Sampler stages are not available from a remote server."


@dataclass(frozen=True, slots=True)
class EngineCapabilities:
    """What the engine behind the controller offers.

    ``grammar`` is "yes", "no" or "server": the last means the server decides (a
    llama.cpp server applies it, others refuse the request or ignore it).
    """

    remote: bool
    sampler_stages: bool
    scoring: bool
    assistant_prefix: bool
    token_ids: bool
    grammar: str
    max_candidates: int


LOCAL_CAPABILITIES = EngineCapabilities(
    remote=False,
    sampler_stages=True,
    scoring=True,
    assistant_prefix=True,
    token_ids=True,
    grammar="yes",
    max_candidates=MAX_CANDIDATES,
)

REMOTE_CAPABILITIES = EngineCapabilities(
    remote=True,
    sampler_stages=False,
    scoring=False,
    assistant_prefix=False,
    token_ids=False,
    grammar="server",
    max_candidates=MAX_REMOTE_CANDIDATES,
)


def capabilities_of(loaded: ModelLoaded | None) -> EngineCapabilities:
    """The capabilities of the engine that loaded ``loaded`` (local when None)."""
    return REMOTE_CAPABILITIES if is_remote(loaded) else LOCAL_CAPABILITIES
