"""Fit the prompt into the model's context window before generation starts.

The budget is exact: every candidate prompt is counted by the generation service's
``CountTokens`` (the model's own tokenizer and chat template, generation prompt included), and
it fits when ``prompt tokens + max_tokens <= max_model_len``. The system prompt and the question
are never cut. What does not fit is dropped whole, in this order: the oldest history exchange
first, then the lowest-ranked passage (passages are packed as a prefix of the rerank order), and
what was dropped is returned so the response can say so. When not even one passage fits, the
request is refused with :class:`InvalidInput` (HTTP 400) before any generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from docentlib.errors import InvalidInput
from services.gateway.prompt import SYSTEM_PROMPT, Message, Passage, build_messages
from services.runtime.clients import GenerationClient


@dataclass(frozen=True)
class FittedPrompt:
    """The prompt to send, and what was left out to make it fit."""

    messages: list[Message]
    passages: int  # how many of the given passages were kept (a prefix, in rank order)
    history_turns: int  # how many exchanges of history were kept
    prompt_tokens: int  # exact, as the generation service counts them
    max_model_len: int
    dropped_passages: list[int] = field(default_factory=list)  # 1-based ranks, in rank order
    dropped_turns: int = 0  # oldest exchanges left out


async def fit_prompt(
    generation: GenerationClient,
    question: str,
    passages: Sequence[Passage],
    history: Sequence[Message],
    max_tokens: int,
    system: str = SYSTEM_PROMPT,
) -> FittedPrompt:
    """The largest prompt that leaves ``max_tokens`` free; :class:`InvalidInput` if none does.

    :param passages: in rerank order (best first); a prefix of them is kept.
    :param history: previous (role, content) turns, oldest first.
    :raises InvalidInput: ``max_tokens`` alone fills the window, or the question with one
        passage (and no history) does not fit.
    """
    kept_passages, kept_history = list(passages), list(history)
    total_exchanges = _exchanges(history)
    while True:
        messages = build_messages(question, kept_passages, kept_history, system)
        count, window = await generation.count_tokens(messages)
        if window > 0 and max_tokens >= window:
            raise InvalidInput(
                f"max_tokens {max_tokens} leaves no room for the prompt in the model's "
                f"context window of {window} tokens"
            )
        if window <= 0 or count + max_tokens <= window:
            kept = _exchanges(kept_history)
            return FittedPrompt(
                messages=messages,
                passages=len(kept_passages),
                history_turns=kept,
                prompt_tokens=count,
                max_model_len=window,
                dropped_passages=list(range(len(kept_passages) + 1, len(passages) + 1)),
                dropped_turns=total_exchanges - kept,
            )
        if kept_history:
            kept_history = _drop_oldest_exchange(kept_history)
        elif len(kept_passages) > 1:
            kept_passages.pop()
        else:
            what = "with one source" if kept_passages else "alone"
            raise InvalidInput(
                f"the message is too long for the model: the prompt {what} has {count} tokens, "
                f"and with max_tokens {max_tokens} it exceeds the context window of {window}"
            )


def _exchanges(history: Sequence[Message]) -> int:
    """Exchanges in ``history``: one per user turn."""
    return sum(1 for role, _ in history if role == "user")


def _drop_oldest_exchange(history: list[Message]) -> list[Message]:
    rest = history[1:]
    while rest and rest[0][0] != "user":
        rest = rest[1:]
    return rest
