"""Degraded modes, each flagged in the answer's metadata, and fast failure when generation is down.

Reranker down -> retrieval's fused order; sparse index down -> the retrieval service answers
from the dense index alone and says so; generation down -> 503, and once its circuit breaker
has opened, a 503 without even calling it.
"""

from __future__ import annotations

import time

import grpc

from services.gateway.app import create_app
from services.runtime.resilience import State
from tests.conftest import free_port
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

CHAT = {"message": "How do I roll back a Deployment to an earlier revision?", "stream": False}


async def test_reranker_failing_keeps_the_fused_order(fake_stack, script: Script) -> None:
    script.rerank_error = grpc.StatusCode.UNAVAILABLE
    async with serving(create_app(fake_stack(reranker=True))) as client:
        native = (await client.post("/v1/chat", json=CHAT)).json()
        openai = await client.post(
            "/v1/chat/completions",
            json={"model": "docent", "messages": [{"role": "user", "content": CHAT["message"]}]},
        )
    assert native["metadata"]["degraded"] == ["rerank"]
    assert native["metadata"]["rerank"].startswith("skipped: reranker")
    assert [s["doc_id"] for s in native["sources"]] == [f"doc{i}" for i in range(5)]
    assert openai.status_code == 200
    assert "rerank" in openai.json()["docent"]["metadata"]["degraded"]


async def test_reranker_working_is_not_degraded(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack(reranker=True))) as client:
        body = (await client.post("/v1/chat", json=CHAT)).json()
    assert body["metadata"]["rerank"] == "applied" and body["metadata"]["degraded"] == []


async def test_sparse_down_is_flagged_from_the_retrieval_reply(fake_stack, script: Script) -> None:
    script.retrieval_degraded = ("sparse",)
    async with serving(create_app(fake_stack(reranker=True))) as client:
        body = (await client.post("/v1/chat", json=CHAT)).json()
    assert body["metadata"]["degraded"] == ["sparse"]
    assert body["answer"]


async def test_generation_down_is_503_then_fails_fast_once_the_breaker_opens(
    fake_stack, script: Script
) -> None:
    settings = fake_stack(
        generation_address=f"127.0.0.1:{free_port()}", breaker_failures=3, breaker_reset_s=60
    )
    app = create_app(settings)
    async with serving(app) as client:
        breaker = app.state.pipeline.generation.breaker
        for _ in range(3):  # the breaker counts failed calls (each after gRPC's retries)
            assert breaker.state is State.CLOSED
            first = await client.post("/v1/chat", json=CHAT)
            assert first.status_code == 503
            error = first.json()["error"]
            assert error["code"] == "dependency_unavailable" and error["dependency"] == "generation"
            assert "circuit open" not in error["message"]
        assert breaker.state is State.OPEN
        start = time.monotonic()
        second = await client.post(
            "/v1/chat/completions",
            json={"model": "docent", "messages": [{"role": "user", "content": "hi"}]},
        )
        elapsed = time.monotonic() - start
    assert second.status_code == 503
    assert second.json()["error"]["dependency"] == "generation"
    assert "circuit open" in second.json()["error"]["message"]
    assert elapsed < 0.5
    assert not script.chat_calls, "nothing else is called when generation is down"
