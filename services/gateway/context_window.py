"""Fit the prompt into the model's context window before generation starts.

The generation service rejects prompts whose tokens plus ``max_tokens`` exceed its window, and
it would only say so inside the stream. Counting first (one cheap RPC, exact chat template)
turns that into trimming: the oldest history goes first, then the lowest-ranked passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.gateway.prompt import Message, Passage, build_messages
from services.runtime.clients import GenerationClient
from services.runtime.errors import InvalidInput


@dataclass(frozen=True)
class FittedPrompt:
    messages: list[Message]
    passages: int  # how many of the given passages were kept (a prefix)
    history_turns: int  # how many exchanges of history were kept
    prompt_tokens: int


async def fit_prompt(
    generation: GenerationClient,
    question: str,
    passages: Sequence[Passage],
    history: Sequence[Message],
    max_tokens: int,
) -> FittedPrompt:
    """The largest prompt that leaves ``max_tokens`` free; :class:`InvalidInput` if none does."""
    kept_passages, kept_history = list(passages), list(history)
    while True:
        messages = build_messages(question, kept_passages, kept_history)
        count, window = await generation.count_tokens(messages)
        if window <= 0 or count + max_tokens <= window:
            return FittedPrompt(messages, len(kept_passages), len(kept_history) // 2, count)
        if kept_history:
            kept_history = _drop_oldest_exchange(kept_history)
        elif len(kept_passages) > 1:
            kept_passages.pop()
        else:
            raise InvalidInput(
                f"the message is too long for the model: {count} prompt tokens plus "
                f"max_tokens {max_tokens} exceed its context window of {window}"
            )


def _drop_oldest_exchange(history: list[Message]) -> list[Message]:
    rest = history[1:]
    while rest and rest[0][0] != "user":
        rest = rest[1:]
    return rest
