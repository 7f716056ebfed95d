"""Timing of the pipeline's stages: one histogram sample, one span and one timings entry each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from services.gateway.metrics import STAGE_SECONDS
from services.runtime.tracing import tracer

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


class StageClock:
    """Usage::

    clock = StageClock()
    with clock.stage("retrieval"):
        hits = await retrieval.search(...)
    clock.timings  # {"retrieval": 0.012}
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.current: str | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``name`` in its own span ``gateway.<name>``."""
        self.current, start = name, time.perf_counter()
        with _tracer.start_as_current_span(f"gateway.{name}"):
            try:
                yield
            finally:
                record(self.timings, name, time.perf_counter() - start)

    def dependency(self) -> str:
        """The dependency of the stage running now (or the last one that ran)."""
        return STAGE_DEPENDENCY.get(self.current or "", self.current or "gateway")


def record(timings: dict[str, float], stage: str, seconds: float) -> None:
    """Put one stage's duration in ``timings`` and the stage histogram."""
    timings[stage] = round(seconds, 6)
    STAGE_SECONDS.labels(stage).observe(seconds)
