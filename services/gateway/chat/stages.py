"""One clock for every stage of a chat: one histogram sample, one span and one timings entry each.

Generation is a stage like the others; it runs after the HTTP response has started, outside
the request's trace context, so its span is opened under the context captured at prepare time
instead of becoming the current span (an async generator cannot safely swap the caller's
context between yields).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TypeVar

from opentelemetry.context import Context
from opentelemetry.trace import Span

from services.gateway.metrics import STAGE_SECONDS
from services.runtime.tracing import tracer

T = TypeVar("T")
_tracer = tracer("services.gateway")

# The dependency a stage waits on, to name it when the request deadline expires there.
STAGE_DEPENDENCY = {
    "prompt_check": "generation",
    "moderation": "moderation",
    "embedding": "embedding",
    "rewrite": "retrieval",
    "retrieval": "retrieval",
    "reranking": "reranking",
    "context_check": "moderation",
    "prompt": "generation",
    "generation": "generation",
}


class RerankStatus(StrEnum):
    """``metadata.rerank``: whether the reranker reordered the candidates, and if not why."""

    APPLIED = "applied"
    NOT_REACHED = "skipped: not reached"
    MESSAGE_REFUSED = "skipped: message refused"
    NO_CANDIDATES = "skipped: no candidates"
    RETRIEVAL_OFF = "skipped: retrieval off"
    NOT_SERVING = "skipped: reranker not serving"
    FAILED = "skipped: reranker failed"
    WRONG_SCORE_COUNT = "skipped: reranker returned a wrong number of scores"

    @property
    def degrades(self) -> bool:
        """True when the answer is produced in fused retrieval order because of the reranker."""
        return self in (self.NOT_SERVING, self.FAILED, self.WRONG_SCORE_COUNT)


class Degraded(StrEnum):
    """``metadata.degraded``: what the answer was produced without."""

    RERANK = "rerank"  # fused retrieval order: the reranker was unavailable
    SPARSE = "sparse"  # dense retrieval only: the sparse index was unavailable


class StageClock:
    """Usage::

    clock = StageClock()
    hits = await clock.run("retrieval", retrieval.search(...))
    clock.timings  # {"retrieval": 0.012}
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.current: str | None = None

    @contextmanager
    def stage(self, name: str, parent: Context | None = None) -> Iterator[Span]:
        """Time the block as ``name`` in its own span ``gateway.<name>``.

        With ``parent`` the span is a child of that context and not made current (for a stage
        that runs inside a generator, after the request's context is gone).
        """
        self.current, start = name, time.perf_counter()
        if parent is None:
            with _tracer.start_as_current_span(f"gateway.{name}") as current:
                try:
                    yield current
                finally:
                    self._record(name, time.perf_counter() - start)
            return
        span = _tracer.start_span(f"gateway.{name}", context=parent)
        try:
            yield span
        except Exception as exc:
            span.record_exception(exc)
            raise
        finally:
            self._record(name, time.perf_counter() - start)
            span.end()

    async def run(self, name: str, work: Awaitable[T]) -> T:
        """``await work`` as the stage ``name``."""
        with self.stage(name):
            return await work

    def note(self, name: str, seconds: float) -> None:
        """A timing that is not a stage (``first_token``: generation start to first text)."""
        self.timings[name] = round(seconds, 6)

    def total(self) -> None:
        self.note("total", time.perf_counter() - self.started)

    def dependency(self) -> str:
        """The dependency of the stage running now (or the last one that ran)."""
        return STAGE_DEPENDENCY.get(self.current or "", self.current or "gateway")

    def _record(self, name: str, seconds: float) -> None:
        self.note(name, seconds)
        STAGE_SECONDS.labels(name).observe(seconds)
