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
class SamplingParams:
    """How to decode; temperature 0 means greedy (deterministic)."""

    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


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


@runtime_checkable
class Engine(Protocol):
    """What every generation engine offers the servicer."""

    model_id: str
    max_model_len: int

    def stream(
        self, messages: list[ChatMessage], params: SamplingParams
    ) -> AsyncIterator[TokenDelta | Finish]:
        """Stream deltas then one Finish; stopping iteration aborts generation promptly."""
        ...

    def count_tokens(
        self, messages: list[ChatMessage] | None = None, text: str | None = None
    ) -> int:
        """Prompt tokens of ``messages`` (chat template + generation prompt) or of raw ``text``."""
        ...

    async def close(self) -> None:
        """Stop running work and release the model."""
        ...
