"""The knowledge base's scope, calibrated on the knowledge base itself.

Whatever was ingested is the domain. A question's best dense retrieval score says how close it
is to the corpus, but what counts as close differs per corpus (a small, narrow corpus scores
every question lower than a large, broad one). So the gateway measures the corpus's own scale:

- *in-corpus* questions: the documents' titles and the section headings their best passages
  carry, searched like questions; their low end (``corpus_low``, the 10th percentile) is how low
  a question the corpus answers can score;
- *foreign* questions: a fixed list about unrelated everyday topics
  (``data/foreign_questions.txt``); their high end (``foreign_high``, the 90th percentile) is how
  high a question the corpus cannot answer scores here.

A question's retrieval relevance is its score placed on that scale (0 at ``foreign_high``, 1 at
``corpus_low``), which the moderation service turns into the ``out_of_scope`` verdict (together
with an optional domain description, which can only widen the scope). Calibration runs in the
background at start-up and again whenever the set of documents changes (checked at most every
``scope_refresh_s``); until one exists no question is declined for scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from docent.v1 import retrieval_pb2
from docentlib.errors import DocentError
from services.runtime.clients import EmbeddingClient, RetrievalClient

log = logging.getLogger(__name__)

FOREIGN_QUESTIONS = Path(__file__).parent / "data" / "foreign_questions.txt"
MIN_GAP = 0.05  # a corpus whose own questions score like foreign ones still gets a scale
UNCALIBRATED_RECHECK_S = 5.0  # with no calibration yet (nothing ingested), look again soon
EMBED_BATCH = 32


def load_lines(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a data file."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass(frozen=True)
class ScopeCalibration:
    """Where foreign and in-corpus questions score on this corpus (best dense cosine)."""

    foreign_high: float
    corpus_low: float
    documents: int
    fingerprint: str
    probes: int  # in-corpus questions measured

    def relevance(self, top_dense_score: float) -> float:
        """``top_dense_score`` on the corpus's scale: 0 at foreign level, 1 at in-corpus level."""
        gap = max(self.corpus_low - self.foreign_high, MIN_GAP)
        return float(min(max((top_dense_score - self.foreign_high) / gap, 0.0), 1.0))


def fingerprint(documents: Sequence[retrieval_pb2.DocumentInfo]) -> str:
    """Changes whenever a document is added, removed or changed."""
    digest = hashlib.sha256()
    for doc_id, content_hash in sorted((d.doc_id, d.content_hash) for d in documents):
        digest.update(f"{doc_id}\0{content_hash}\n".encode())
    return digest.hexdigest()[:16]


def spread(items: Sequence[str], count: int) -> list[str]:
    """Up to ``count`` items chosen deterministically but spread over the whole list."""
    ranked = sorted(set(items), key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    return ranked[:count]


class CorpusScope:
    """Usage::

    scope = CorpusScope(embedding, retrieval)
    scope.start()                       # calibrate in the background
    relevance = await scope.relevance(0.41)   # None until calibrated
    """

    def __init__(
        self,
        embedding: EmbeddingClient,
        retrieval: RetrievalClient,
        refresh_s: float = 60.0,
        titles: int = 48,
        headings: int = 48,
        foreign: Sequence[str] | None = None,
        first_wait_s: float = 20.0,
    ) -> None:
        self.embedding, self.retrieval = embedding, retrieval
        self.refresh_s, self.titles, self.headings = refresh_s, titles, headings
        self.first_wait_s = first_wait_s
        self.foreign = list(foreign) if foreign is not None else load_lines(FOREIGN_QUESTIONS)
        self.calibration: ScopeCalibration | None = None
        self._checked_at = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Check the corpus (and calibrate when it changed) in the background, if not running."""
        if self._task is None or self._task.done():
            self._checked_at = time.monotonic()
            self._task = asyncio.create_task(self.refresh())

    async def relevance(self, top_dense_score: float | None) -> float | None:
        """The question's retrieval relevance, or None (no calibration or no dense score).

        Until a first calibration exists, the corpus is checked every few seconds and a question
        waits (at most ``first_wait_s``) for a calibration in progress, so the first questions
        after an ingestion are judged like every later one.
        """
        recheck = self.refresh_s if self.calibration is not None else UNCALIBRATED_RECHECK_S
        if time.monotonic() - self._checked_at >= recheck:
            self.start()
        if self.calibration is None and self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), self.first_wait_s)
        if self.calibration is None or top_dense_score is None:
            return None
        return self.calibration.relevance(top_dense_score)

    async def refresh(self) -> None:
        """Recalibrate when the documents changed; failures keep the previous calibration."""
        try:
            documents = await self.retrieval.list_documents()
            current = fingerprint(documents)
            if self.calibration is not None and self.calibration.fingerprint == current:
                return
            self.calibration = await self.calibrate(documents, current) if documents else None
            if self.calibration is not None:
                log.info("scope calibrated", extra={"scope": self.calibration.__dict__})
        except DocentError as exc:
            log.warning("scope calibration failed; keeping the last one", extra={"error": str(exc)})

    async def calibrate(
        self, documents: Sequence[retrieval_pb2.DocumentInfo], current: str
    ) -> ScopeCalibration:
        titles = spread([d.title for d in documents if d.title], self.titles)
        headings = await self._headings(titles[: max(1, self.headings // 3)])
        probes = titles + spread([h for h in headings if h not in titles], self.headings)
        corpus = await self._top_scores(probes)
        foreign = await self._top_scores(self.foreign)
        return ScopeCalibration(
            foreign_high=round(float(np.percentile(foreign, 90)), 4),
            corpus_low=round(float(np.percentile(corpus, 10)), 4),
            documents=len(documents),
            fingerprint=current,
            probes=len(probes),
        )

    async def _headings(self, titles: Sequence[str]) -> list[str]:
        """Section headings of the passages the titles find (cheap sparse searches)."""
        found: list[str] = []
        for title in titles:
            reply = await self.retrieval.search_response(title, None, 5, "sparse")
            found += [hit.heading_path[-1] for hit in reply.hits if hit.heading_path]
        return found

    async def _top_scores(self, questions: Sequence[str]) -> list[float]:
        """Best dense score of each question against the index."""
        vectors: list[np.ndarray] = []
        for start in range(0, len(questions), EMBED_BATCH):
            vectors += list(
                await self.embedding.embed(list(questions[start : start + EMBED_BATCH]))
            )
        scores = []
        for question, vector in zip(questions, vectors, strict=True):
            reply = await self.retrieval.search_response(question, vector.tolist(), 3, "dense")
            dense = [h.retriever_scores.get("dense", h.score) for h in reply.hits]
            scores.append(max(dense, default=0.0))
        return scores
