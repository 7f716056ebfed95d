"""The prompt: numbered sources the model must answer from, fitted to the context window.

The wording (system prompt, numbered sources, citations) is the shared answer format in
:mod:`docentlib.answer_format`, which training data is written with too. Fitting is exact:
every candidate prompt is counted by the generation service's ``CountTokens`` (the model's own
tokenizer and chat template, generation prompt included), and it fits when ``prompt tokens +
max_tokens <= max_model_len``. The system prompt and the question are never cut; what does not
fit is dropped whole (the oldest history exchange first, then the lowest-ranked passage) and
reported. A question that cannot fit even alone is refused before any other work
(:func:`check_prompt_budget`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from docentlib.answer_format import (  # re-exported: the gateway's modules import them here
    DEFAULT_DOMAIN as DEFAULT_DOMAIN,
)
from docentlib.answer_format import (
    SYSTEM_PROMPT as SYSTEM_PROMPT,
)
from docentlib.answer_format import (
    Message as Message,
)
from docentlib.answer_format import (
    Passage as Passage,
)
from docentlib.answer_format import (
    build_messages as build_messages,
)
from docentlib.answer_format import (
    closed_book_prompt as closed_book_prompt,
)
from docentlib.answer_format import (
    extract_citations as extract_citations,
)
from docentlib.answer_format import (
    format_passage as format_passage,
)
from docentlib.answer_format import (
    quote as quote,
)
from docentlib.answer_format import (
    relevant_sentences as relevant_sentences,
)
from docentlib.answer_format import (
    strip_citations as strip_citations,
)
from docentlib.answer_format import (
    system_prompt as system_prompt,
)
from docentlib.errors import InvalidInput
from services.runtime.clients import GenerationClient

_FOLLOW_UP_WORDS = 8


def retrieval_query(question: str, history: Sequence[Message] = ()) -> str:
    """A standalone query for retrieval.

    A short follow-up ("and how do I undo it?") means little alone, so the previous user
    question is prepended; a longer message is taken to stand on its own.
    """
    if len(question.split()) >= _FOLLOW_UP_WORDS:
        return question
    previous = next((c for r, c in reversed(history) if r == "user"), None)
    return f"{previous}\n{question}" if previous else question


class PromptTooLong(InvalidInput):
    """The question alone does not fit the model's context window (HTTP 400)."""

    code = "context_length_exceeded"


async def check_prompt_budget(
    generation: GenerationClient, question: str, max_tokens: int, system: str = SYSTEM_PROMPT
) -> int:
    """The question's prompt tokens (system prompt included); :class:`PromptTooLong` if over.

    Usage: ``await check_prompt_budget(client, "What is a Pod?", max_tokens=256)``
    """
    count, window = await generation.count_tokens(build_messages(question, [], system=system))
    if window > 0 and count + max_tokens > window:
        raise PromptTooLong(
            f"the prompt is too long for the model: {count} prompt tokens plus max_tokens "
            f"{max_tokens} exceed its context window of {window} tokens"
        )
    return count


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
    closed_book: bool = False,
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
        messages = build_messages(question, kept_passages, kept_history, system, closed_book)
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
