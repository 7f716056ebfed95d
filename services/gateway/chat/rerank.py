"""The reranking stage: reorder candidates by cross-encoder score, or say why not.

The reranker's health is checked first and the answer cached for a few seconds; a reranker
that is down or failing degrades the chat to retrieval order (flagged) instead of failing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from docent.v1 import retrieval_pb2
from docentlib.errors import DocentError
from docentlib.passages import rerank_text
from docentlib.ranking import blend_rerank
from services.gateway.chat.stages import RerankStatus
from services.runtime.clients import DependencyError, RerankingClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    """A retrieval hit and, when reranked, its cross-encoder score."""

    hit: retrieval_pb2.Hit
    rerank_score: float | None = None


@dataclass(frozen=True)
class RerankOutcome:
    """The candidates to use, best first, and what the reranker did."""

    ranked: list[Ranked]
    status: RerankStatus
    detail: str | None = None  # e.g. the gRPC status of a failed call

    @property
    def note(self) -> str:
        """``metadata.rerank``: ``applied`` or ``skipped: <reason>``."""
        return f"{self.status.value} ({self.detail})" if self.detail else self.status.value


class RerankGate:
    """Caches the reranker's health for ``ttl_s`` so each chat does not pay a health check."""

    def __init__(self, client: RerankingClient, ttl_s: float, probe_timeout_s: float) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.probe_timeout_s = probe_timeout_s
        self._serving = False
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def serving(self) -> bool:
        async with self._lock:
            now = time.monotonic()
            if self._checked_at is None or now - self._checked_at >= self.ttl_s:
                self._serving = await self.client.serving(timeout=self.probe_timeout_s)
                self._checked_at = time.monotonic()
            return self._serving

    def mark_failed(self) -> None:
        """Skip the reranker until the next health check."""
        self._serving = False
        self._checked_at = time.monotonic()


async def rerank(
    gate: RerankGate,
    query: str,
    hits: Sequence[retrieval_pb2.Hit],
    keep: int,
    weight: float = 1.0,
) -> RerankOutcome:
    """The best ``keep`` candidates and what the reranker did with them.

    The cross-encoder reads each passage with its title and headings and its order is blended
    with the retrieval order (:func:`docentlib.ranking.blend_rerank`, ``weight``), the
    same way ``docent eval retrieval`` measures it.
    """
    in_order = [Ranked(h) for h in hits][:keep]
    if not hits:
        return RerankOutcome([], RerankStatus.NO_CANDIDATES)
    if not await gate.serving():
        return RerankOutcome(in_order, RerankStatus.NOT_SERVING)
    try:
        passages = [rerank_text(h.title, list(h.heading_path), h.text) for h in hits]
        scores = await gate.client.rerank(query, passages)
    except DocentError as exc:
        gate.mark_failed()
        status = exc.status if isinstance(exc, DependencyError) else exc.code
        log.warning("reranking failed; keeping retrieval order", extra={"error": str(exc)})
        return RerankOutcome(in_order, RerankStatus.FAILED, status)
    if len(scores) != len(hits):
        gate.mark_failed()
        return RerankOutcome(in_order, RerankStatus.WRONG_SCORE_COUNT)
    order = blend_rerank(list(range(len(hits))), scores, weight)
    ranked = [Ranked(hits[i], float(scores[i])) for i in order][:keep]
    return RerankOutcome(ranked, RerankStatus.APPLIED)
