"""Reject a question the model cannot take before any other work is done.

The pipeline trims sources and history to fit the context window, but the question itself (with
the system prompt) cannot be trimmed: if it leaves no room for ``max_tokens`` the request is
refused at once, counted with the generation model's own tokenizer (one CountTokens RPC), so a
long prompt never costs a moderation, embedding or retrieval call first.
"""

from __future__ import annotations

from docentlib.errors import InvalidInput
from services.gateway.prompt import SYSTEM_PROMPT, build_messages
from services.runtime.clients import GenerationClient


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
