"""Safety policy of the gateway over the moderation service's detectors.

The input check runs before retrieval; the context check (scope of the question, injected
instructions in each passage) after it; the output check on the stream lives in
:mod:`services.gateway.chat.output_guard`. Refusals are short and polite and differ by reason:
a harmful (or abusive) request, an attempt to manipulate the assistant, and a question outside
the knowledge base's domain. Each refusal is counted in ``docent_gateway_refusals_total``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from docent.v1 import moderation_pb2
from docentlib.answer_format import out_of_scope_refusal
from services.gateway.chat.scope import CorpusScope
from services.gateway.metrics import INJECTED_PASSAGES, REFUSALS
from services.runtime.clients import ModerationClient

log = logging.getLogger(__name__)


def harmful_refusal(categories: Sequence[str]) -> str:
    """The refusal of a harmful or abusive message, naming what the filter flagged."""
    flagged = f" ({', '.join(categories)})" if categories else ""
    return f"Sorry, I can't help with that: the message was flagged by the content filter{flagged}."


INJECTION_REFUSAL = (
    "Sorry, I can't do that: I only answer questions from the documentation, and I can't "
    "change or reveal my instructions."
)


def output_refusal(categories: Sequence[str]) -> str:
    """What replaces an answer that output moderation stopped."""
    if main_category(categories) == "system_prompt_leak":
        return INJECTION_REFUSAL
    flagged = f" ({', '.join(categories)})" if categories else ""
    return f"Sorry, I can't continue this answer: it was stopped by the content filter{flagged}."


# Category order decides which refusal wins when several fire.
_PRIORITY = ("harmful", "toxicity", "prompt_injection", "system_prompt_leak", "out_of_scope")


def flagged_categories(response: moderation_pb2.CheckResponse) -> list[str]:
    """Flagged category names; ``toxicity.<kind>`` sub-kinds are kept as they are."""
    return [c.category for c in response.categories if c.flagged]


def main_category(categories: Sequence[str]) -> str:
    """The category a refusal is given (and counted) for."""
    roots = [c.split(".", 1)[0] for c in categories]
    for name in _PRIORITY:
        if name in roots:
            return name
    return roots[0] if roots else "unknown"


def refusal_for(categories: Sequence[str], domain: str) -> str:
    """The polite answer to a refused message, chosen by what was flagged."""
    main = main_category(categories)
    if main == "out_of_scope":
        return out_of_scope_refusal(domain)
    if main in ("prompt_injection", "system_prompt_leak"):
        return INJECTION_REFUSAL
    return harmful_refusal([c for c in categories if c != "out_of_scope"])


def count_refusal(category: str) -> None:
    REFUSALS.labels(category=category).inc()


def top_dense_score(hits: Sequence[object]) -> float | None:
    """Best dense (cosine) score among retrieval hits; None when dense retrieval did not run."""
    scores = [h.retriever_scores["dense"] for h in hits if "dense" in h.retriever_scores]  # type: ignore[attr-defined]
    return max(scores) if scores else None


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
    moderation: ModerationClient,
    scope: CorpusScope,
    question: str,
    passages: Sequence[str],
    hits: Sequence[object],
) -> ContextVerdict:
    """One moderation call: scope of the question, injection in each passage.

    The question's best dense score goes with its place on this corpus's own scale
    (:class:`~services.gateway.chat.scope.CorpusScope`), which decides scope once calibrated.
    """
    score = top_dense_score(hits)
    relevance = await scope.relevance(score)
    reply = await moderation.check_context(question, passages, score, relevance)
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


_WORD = re.compile(r"[a-z0-9]+")


class LeakDetector:
    """Spots a long span of the system prompt in generated text.

    Any ``span`` consecutive words of the system prompt appearing in the output count as a
    leak; ordinary answers share a few words with it ("the sources", "cite"), never eight in a
    row.

    Usage::

        LeakDetector(SYSTEM_PROMPT).leaks("...")  # True if 8 words in a row are copied
    """

    def __init__(self, secret: str, span: int = 8) -> None:
        words = _WORD.findall(secret.lower())
        self.span = span
        self.grams = {tuple(words[i : i + span]) for i in range(len(words) - span + 1)}

    def leaks(self, text: str) -> bool:
        words = _WORD.findall(text.lower())
        return any(
            tuple(words[i : i + self.span]) in self.grams for i in range(len(words) - self.span + 1)
        )
