"""The stage clock and the answer builder: what every stage, generation included, goes through."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import context as otel_context
from prometheus_client import REGISTRY

from services.gateway.chat.answer import Answer
from services.gateway.chat.rerank import RerankOutcome
from services.gateway.chat.stages import RerankStatus, StageClock


def _count(stage: str) -> float:
    return REGISTRY.get_sample_value("docent_gateway_stage_seconds_count", {"stage": stage}) or 0


async def test_run_times_a_stage_into_timings_and_the_histogram():
    clock, before = StageClock(), _count("retrieval")

    async def work() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert await clock.run("retrieval", work()) == 7
    assert clock.timings["retrieval"] >= 0.01
    assert _count("retrieval") == before + 1
    assert clock.dependency() == "retrieval"


async def test_a_failing_stage_is_still_timed_and_names_its_dependency():
    clock = StageClock()

    async def broken() -> None:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        await clock.run("reranking", broken())
    assert "reranking" in clock.timings and clock.dependency() == "reranking"


def test_a_stage_under_a_captured_context_is_timed_too():
    clock = StageClock()
    with clock.stage("generation", parent=otel_context.get_current()):
        pass
    clock.note("first_token", 0.25)
    clock.total()
    assert set(clock.timings) == {"generation", "first_token", "total"}
    assert clock.timings["first_token"] == 0.25


def test_rerank_notes_keep_their_wire_format():
    assert RerankOutcome([], RerankStatus.APPLIED).note == "applied"
    failed = RerankOutcome([], RerankStatus.FAILED, "UNAVAILABLE")
    assert failed.note == "skipped: reranker failed (UNAVAILABLE)"
    assert RerankStatus.NOT_SERVING.degrades and not RerankStatus.NO_CANDIDATES.degrades


def test_the_answer_is_built_by_named_steps():
    answer = Answer()
    assert not answer.started and answer.text == ""
    answer.add("Pods ")
    answer.add("run containers.")
    assert answer.started and answer.text == "Pods run containers."
    answer.replace("Sorry.")
    assert answer.text == "Sorry."
