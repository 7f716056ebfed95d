"""The chat flow through real gRPC calls to scripted fakes: order, events, degraded modes."""

from __future__ import annotations

import asyncio
import json

import grpc
import httpx
import uvicorn
from prometheus_client import REGISTRY

from docentlib.gateway_client import parse_sse
from docentlib.ranking import blend_rerank
from services.gateway.app import create_app
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.chat.schemas import ChatRequest
from tests.conftest import free_port
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

QUESTION = "How do I roll back a Deployment to a previous revision?"


def _events(text: str) -> list:
    return list(parse_sse(iter(text.splitlines())))


async def test_streamed_answer_events_in_order(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["cache-control"] == "no-cache"
    assert reply.headers["x-accel-buffering"] == "no"
    events = _events(reply.text)
    kinds = [e.event for e in events]
    assert kinds == ["sources"] + ["delta"] * len(script.answer) + ["done"]
    sources = events[0].data["sources"]
    assert [s["n"] for s in sources] == [1, 2, 3, 4, 5]
    assert set(sources[0]) >= {"n", "chunk_id", "doc_id", "title", "source_path",
                               "heading_path", "text", "score", "retriever_scores"}  # fmt: skip
    assert len(sources[0]["text"]) <= 400
    assert "".join(e.data["text"] for e in events[1:-1]) == "".join(script.answer)
    done = events[-1].data
    assert set(done) == {"conversation_id", "citations", "usage", "timings", "metadata"}
    assert done["citations"] == [1, 2]  # [9] is out of range
    assert done["usage"] == {"prompt_tokens": 42, "completion_tokens": len(script.answer)}
    stages = {"moderation", "embedding", "retrieval", "reranking", "prompt", "generation"}
    assert stages <= set(done["timings"]) and "total" in done["timings"]
    meta = done["metadata"]
    assert meta["rerank"] == "skipped: reranker not serving"
    assert meta["refused"] is False and meta["finish_reason"] == "stop"
    assert meta["candidates"] == 8 and meta["request_id"] == reply.headers["x-request-id"]
    assert "reranking" not in script.seen  # never called while not serving
    search = script.seen["retrieval"][0]
    assert search.k == 20 and list(search.vector) == [0.6000000238418579, 0.800000011920929]
    assert search.query == QUESTION


async def test_json_answer_and_conversation_history(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack())) as client:
        first = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["answer"] == "".join(script.answer)
        assert [s["n"] for s in body["sources"]] == [1, 2, 3, 4, 5]
        conv = body["conversation_id"]
        follow = {"message": "and a StatefulSet?", "conversation_id": conv, "stream": False}
        second = await client.post("/v1/chat", json=follow)
        assert second.status_code == 200, second.text
        assert second.json()["conversation_id"] == conv
        assert second.json()["metadata"]["history_turns"] == 1
    prompt = script.seen["generation"][-1].messages
    assert [m.role for m in prompt] == ["system", "user", "assistant", "user"]
    assert prompt[1].content == QUESTION
    assert "[1]" not in prompt[2].content  # earlier citation numbers stripped
    assert script.seen["retrieval"][-1].query == f"{QUESTION}\nand a StatefulSet?"


async def test_blocked_message_is_refused_without_retrieval(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat", json={"message": "you idiot", "stream": False})
        streamed = await client.post("/v1/chat", json={"message": "you idiot"})
    body = reply.json()
    assert reply.status_code == 200
    assert body["metadata"]["refused"] is True
    assert body["metadata"]["flagged_categories"] == ["toxicity"]
    assert body["sources"] == [] and "toxicity" in body["answer"]
    assert [e.event for e in _events(streamed.text)] == ["sources", "delta", "done"]
    assert "retrieval" not in script.seen and "generation" not in script.seen


async def test_reranker_applied_when_serving(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack(reranker=True))) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    body = reply.json()
    assert body["metadata"]["rerank"] == "applied"
    # The fake scores passage i as i (the reverse of retrieval order); the gateway blends the
    # two orders by rank fusion, exactly as blend_rerank does.
    order = blend_rerank(list(range(8)), [float(i) for i in range(8)])
    assert [s["doc_id"] for s in body["sources"]] == [f"doc{i}" for i in order[:5]]
    assert body["sources"][0]["rerank_score"] == float(order[0])
    assert len(script.seen["reranking"][0].passages) == 8


async def test_prompt_is_trimmed_to_the_context_window(fake_stack, script: Script) -> None:
    script.max_model_len = 1000  # the fake counts 4 characters a token
    async with serving(create_app(fake_stack(context_sentences=0))) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    body = reply.json()
    assert reply.status_code == 200, body
    assert 1 <= len(body["sources"]) < 5
    assert body["metadata"]["trimmed_passages"] == 5 - len(body["sources"])
    script.max_model_len = 100
    async with serving(create_app(fake_stack(context_sentences=0))) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "context_length_exceeded"


async def test_empty_index_answers_without_generation(fake_stack, script: Script) -> None:
    script.hits = 0
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    assert reply.status_code == 200
    assert reply.json()["sources"] == [] and "don't know" in reply.json()["answer"]
    assert "generation" not in script.seen


async def test_generation_failure_mid_stream_is_an_error_event(fake_stack, script) -> None:
    script.generate_error = grpc.StatusCode.UNAVAILABLE
    async with serving(create_app(fake_stack())) as client:
        streamed = await client.post("/v1/chat", json={"message": QUESTION})
        as_json = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    events = _events(streamed.text)
    assert streamed.status_code == 200
    assert [e.event for e in events] == ["sources", "error"]
    error = events[-1].data["error"]
    assert error["code"] == "dependency_unavailable" and error["dependency"] == "generation"
    assert as_json.status_code == 503 and as_json.json()["error"]["dependency"] == "generation"


async def test_stage_histogram_is_recorded(fake_stack) -> None:
    before = REGISTRY.get_sample_value("docent_gateway_stage_seconds_count", {"stage": "retrieval"})
    async with serving(create_app(fake_stack())) as client:
        await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
        text = (await client.get("/metrics")).text
    after = REGISTRY.get_sample_value("docent_gateway_stage_seconds_count", {"stage": "retrieval"})
    assert after == (before or 0) + 1
    assert 'docent_gateway_stage_seconds_bucket{le="0.005",stage="generation"}' in text


async def test_closing_the_event_stream_cancels_generation(fake_stack, script: Script) -> None:
    script.endless, script.token_delay = True, 0.01
    pipeline = ChatPipeline.from_settings(fake_stack())
    try:
        prepared = await pipeline.prepare(ChatRequest(message=QUESTION))
        events = pipeline.events(prepared)
        kinds = [(await anext(events)).name for _ in range(4)]
        assert kinds == ["sources", "delta", "delta", "delta"]
        await events.aclose()
        await asyncio.wait_for(script.generation_cancelled.wait(), 5)
    finally:
        await pipeline.close()


async def test_client_disconnect_over_http_cancels_generation(fake_stack, script) -> None:
    """A real server and socket: the client reads a few events and hangs up."""
    script.endless, script.token_delay = True, 0.01
    port = free_port()
    config = uvicorn.Config(create_app(fake_stack()), port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    serve = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream(
                "POST", f"http://127.0.0.1:{port}/v1/chat", json={"message": QUESTION}
            ) as reply,
        ):
            assert reply.status_code == 200
            seen = []
            async for line in reply.aiter_lines():
                if line.startswith("event:"):
                    seen.append(line)
                if len(seen) == 5:
                    break
        assert seen[0] == "event: sources"
        await asyncio.wait_for(script.generation_cancelled.wait(), 5)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serve, 10)


async def test_sse_data_lines_are_json(fake_stack, script: Script) -> None:
    script.answer = ["line\none ", "\u2028sep ", 'quote " [1]']
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION})
    data_lines = [line for line in reply.text.split("\n") if line.startswith("data:")]
    assert len(data_lines) == 5
    for line in data_lines:
        json.loads(line.removeprefix("data: "))
