"""The engine contract the servicer programs against, so engines can be swapped by settings.

An engine turns chat messages into a stream of :class:`TokenDelta` items that always ends with
exactly one :class:`Finish`; validation errors are raised as domain errors before generating.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "abort"]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of the conversation (role: system, user or assistant)."""

    role: str
    content: str


@dataclass(frozen=True)
class Structured:
    """A constraint on the completion: a JSON schema or a Lark grammar, as text."""

    kind: Literal["json_schema", "grammar"]
    spec: str


@dataclass(frozen=True)
class SamplingParams:
    """How to decode; temperature 0 means greedy (deterministic)."""

    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    adapter: str | None = None  # a LoRA adapter by name, for engines that serve adapters
    # Against the loops small models fall into: generated tokens' logits are divided (positive)
    # or multiplied (negative) by this; 1.0 is off. Prompt tokens are not penalised, so text
    # can still be copied from the sources.
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0  # never generate an n-gram of this size twice; 0 is off
    structured: Structured | None = None  # constrained decoding; None: free text


@dataclass(frozen=True)
class TokenDelta:
    """New text, plus the ids of the tokens that completed it (may be several or none)."""

    text: str
    token_ids: tuple[int, ...]


@dataclass(frozen=True)
class Finish:
    """Last stream item: why generation ended and the token usage for billing and metrics.

    ``completion_tokens`` counts every token the model produced, including an end-of-sequence
    token or the one that completed a stop string.
    """

    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class EngineStats:
    """Load right now, with vLLM's meaning: decoding (running) and queued (waiting)."""

    running: int
    waiting: int


@runtime_checkable
class Engine(Protocol):
    """What every generation engine offers the servicer.

    ``stream`` takes a ``request_id`` so :meth:`abort` can stop it from elsewhere; closing the
    stream's iterator aborts it too (that is how a client disconnect reaches the engine).
    """

    model_id: str
    max_model_len: int

    def stream(
        self, messages: list[ChatMessage], params: SamplingParams, request_id: str | None = None
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Stream deltas then one Finish; stopping iteration aborts generation promptly."""
        ...

    async def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Prompt tokens of ``messages`` (chat template + generation prompt) or of raw ``text``."""
        ...

    async def abort(self, request_id: str) -> bool:
        """Stop a running or queued request; False when no such request is in flight."""
        ...

    async def health(self) -> bool:
        """True while the engine can serve (a remote engine checks its server)."""
        ...

    def stats(self) -> EngineStats:
        """Running and waiting requests, for the gauges."""
        ...

    async def close(self) -> None:
        """Stop running work and release the model."""
        ...
