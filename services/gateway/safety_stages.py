"""The safety stages of the pipeline: the input check, the context check, the output check.

Kept apart from :mod:`services.gateway.pipeline` so that the policy (what is refused, what is
dropped, what is counted) reads in one place.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from docent.v1 import moderation_pb2
from services.gateway.events import DeltaEvent, ErrorEvent, ModerationEvent, PreparedChat
from services.gateway.metrics import INJECTED_PASSAGES
from services.gateway.moderation_stream import WindowCheck, guard_stream
from services.gateway.safety import (
    LeakDetector,
    count_refusal,
    flagged_categories,
    main_category,
    output_refusal,
    refusal_for,
    top_dense_score,
)
from services.gateway.settings import GatewaySettings
from services.gateway.streaming import stream_answer
from services.runtime.clients import GenerationClient, ModerationClient

log = logging.getLogger(__name__)


def refuse(chat: PreparedChat, categories: list[str], where: str, domain: str) -> None:
    """Answer ``chat`` with the refusal for ``categories`` instead of generating."""
    meta = chat.metadata
    meta.refused, meta.moderation = True, where
    meta.flagged_categories = categories
    chat.canned_answer = refusal_for(categories, domain)
    chat.sources = []
    count_refusal(main_category(categories))


async def check_input(moderation: ModerationClient, question: str) -> list[str]:
    """Flagged categories of the user's message ([] when it may pass)."""
    verdict = await moderation.check(question, "input")
    if verdict.decision != moderation_pb2.DECISION_BLOCK:
        return []
    if verdict.evidence:
        log.info("message refused", extra={"evidence": list(verdict.evidence)})
    return flagged_categories(verdict) or ["unknown"]


@dataclass
class ContextVerdict:
    """After retrieval: is the question out of scope, and which passages were injected."""

    out_of_scope: bool = False
    injected: list[int] = field(default_factory=list)  # 0-based indexes into the passages


async def check_context(
    moderation: ModerationClient, question: str, passages: Sequence[str], hits: Sequence[object]
) -> ContextVerdict:
    """One moderation call: scope of the question, injection in each passage."""
    reply = await moderation.check_context(question, passages, top_dense_score(hits))
    injected = [
        i for i, v in enumerate(reply.passages) if v.decision == moderation_pb2.DECISION_BLOCK
    ]
    if injected:
        INJECTED_PASSAGES.inc(len(injected))
        evidence = [list(reply.passages[i].evidence) for i in injected]
        log.warning("injected passages dropped", extra={"evidence": evidence})
    out_of_scope = reply.scope.decision == moderation_pb2.DECISION_BLOCK
    if out_of_scope:
        log.info("declined: out of scope", extra={"evidence": list(reply.scope.evidence)})
    return ContextVerdict(out_of_scope, injected)


def output_check(moderation: ModerationClient, leak: LeakDetector) -> WindowCheck:
    """The sliding-window check of generated text: a system-prompt leak, then toxicity."""

    async def check(window: str) -> list[str]:
        if leak.leaks(window):
            return ["system_prompt_leak"]
        verdict = await moderation.check(window, "output")
        if verdict.decision != moderation_pb2.DECISION_BLOCK:
            return []
        return flagged_categories(verdict) or ["unknown"]

    return check


async def moderated_answer(
    generation: GenerationClient,
    moderation: ModerationClient,
    leak: LeakDetector,
    settings: GatewaySettings,
    chat: PreparedChat,
    parts: list[str],
) -> AsyncIterator[DeltaEvent | ErrorEvent | ModerationEvent]:
    """Generation, through output moderation when enabled.

    A violation stops generation; the text so far (``parts``, hence the answer and the stored
    history) becomes the refusal, which the :class:`ModerationEvent` carries to the client.
    """
    stream = stream_answer(generation, chat, parts)
    if settings.output_moderation:
        check = output_check(moderation, leak)
        stream = guard_stream(stream, check, settings.output_window_chars)
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, ModerationEvent):
                text = output_refusal(event.categories)
                meta = chat.metadata
                meta.refused, meta.moderation = True, "output"
                meta.flagged_categories = event.categories
                meta.finish_reason = "content_filter"
                parts[:] = [text]
                count_refusal(f"output_{main_category(event.categories)}")
                yield ModerationEvent(event.categories, refusal=text)
                return
            yield event
