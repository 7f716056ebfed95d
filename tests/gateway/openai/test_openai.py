"""The OpenAI-compatible routes: wire format to the chunk, validation and error codes.

The HTTP layer against scripted gRPC stand-ins; the official client against the real stack is
in tests/e2e/test_openai_e2e.py, and against this layer in test_openai_client.py.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from services.gateway.app import create_app
from tests.gateway.conftest import serving
from tests.gateway.fakes import ANSWER

QUESTION = {"role": "user", "content": "How do I roll back a Deployment?"}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "docent", "messages": [QUESTION], **fields}


def chunks_of(text: str) -> list[Any]:
    """Each ``data:`` payload (parsed, but ``[DONE]`` kept as is); asserts the framing."""
    frames = [f for f in text.split("\n\n") if f]
    out: list[Any] = []
    for frame in frames:
        if frame.startswith(":"):
            continue  # heartbeat comment
        assert frame.startswith("data: ") and "\n" not in frame, frame
        payload = frame.removeprefix("data: ")
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


async def test_whole_answer_in_openai_shape(fake_stack, script) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=body())
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["object"] == "chat.completion" and data["model"] == "docent"
    assert data["id"].startswith("chatcmpl-") and isinstance(data["created"], int)
    (choice,) = data["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": "".join(ANSWER), "refusal": None}
    assert data["usage"] == {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
    assert [s["n"] for s in data["sources"]] == [1, 2, 3, 4, 5]
    assert data["docent"]["citations"] == [1, 2]
    assert data["docent"]["metadata"]["citation_mode"] == "model"


async def test_client_history_reaches_the_prompt_and_is_not_stored(fake_stack, script) -> None:
    messages = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "What is a Deployment?"},
        {"role": "assistant", "content": "A controller for Pods [1]."},
        {"role": "user", "content": [{"type": "text", "text": "and how do I undo it?"}]},
    ]
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=body(messages=messages))
        assert reply.status_code == 200, reply.text
        listed = await client.get("/v1/conversations")
    sent = script.seen["generation"][-1].messages
    assert [m.role for m in sent] == ["system", "user", "assistant", "user"]
    assert "pirate" not in sent[0].content, "Docent's own system prompt is used"
    assert sent[1].content == "What is a Deployment?"
    assert sent[2].content == "A controller for Pods."  # old markers stripped
    assert sent[3].content.endswith("Question: and how do I undo it?")
    query = script.seen["retrieval"][-1].query
    assert "What is a Deployment?" in query, "a short follow-up is retrieved with its context"
    assert listed.status_code == 200
    assert listed.json()["conversations"] == [], "the client holds the conversation"


async def test_stream_follows_the_chunk_format(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=body(stream=True))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    chunks = chunks_of(reply.text)
    assert chunks[-1] == "[DONE]"
    chunks = chunks[:-1]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert all("usage" not in c for c in chunks), "no usage unless include_usage"
    first, *middle, last = chunks
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c["choices"][0]["delta"]["content"] for c in middle] == ANSWER
    assert all(c["choices"][0]["finish_reason"] is None for c in [first, *middle])
    assert last["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert [s["n"] for s in last["sources"]] == [1, 2, 3, 4, 5]
    assert last["docent"]["citations"] == [1, 2]
    assert "sources" not in first and "sources" not in middle[0]


async def test_include_usage_adds_a_usage_chunk(fake_stack) -> None:
    request = body(stream=True, stream_options={"include_usage": True})
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=request)
    chunks = chunks_of(reply.text)
    assert chunks[-1] == "[DONE]"
    *others, usage = chunks[:-1]
    assert all(c["usage"] is None for c in others)
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
    assert others[-1]["choices"][0]["finish_reason"] == "stop"
    assert len(usage["sources"]) == 5, "the final chunk carries the sources"


async def test_refused_message_finishes_with_content_filter(fake_stack, script) -> None:
    request = body(messages=[{"role": "user", "content": "you idiot"}])
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=request)
    data = reply.json()
    assert data["choices"][0]["finish_reason"] == "content_filter"
    assert data["docent"]["metadata"]["refused"] is True and data["sources"] == []
    assert "generation" not in script.seen


async def test_models(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        listed = (await client.get("/v1/models")).json()
        one = await client.get("/v1/models/docent")
        unknown = await client.get("/v1/models/gpt-4o")
    assert listed["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in listed["data"]] == [
        ("docent", "model", "docent")
    ]
    assert one.json()["id"] == "docent"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [QUESTION] * 65}, "messages"),
        ({"messages": [QUESTION, {"role": "assistant", "content": "hi"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "   "}]}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "x" * 32_001}]}, "messages.0.content"),
        ({"messages": [{"role": "user", "content": []}]}, "messages.0.content"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.01}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 5000}, "max_tokens"),
        ({"max_completion_tokens": 1025}, "max_completion_tokens"),
        ({"n": 2}, "n"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"model": ""}, "model"),
    ],
)
async def test_invalid_requests_name_their_field(fake_stack, script, change, field) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=body(**change))
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_request"
    assert error.get("field", "").startswith(field), error
    assert not script.chat_calls, "nothing is called for an invalid request"


async def test_stream_options_need_stream(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post(
            "/v1/chat/completions", json=body(stream_options={"include_usage": True})
        )
    assert reply.status_code == 422
    assert "stream_options" in reply.json()["error"]["message"]


async def test_message_longer_than_the_setting_is_refused(fake_stack, script) -> None:
    request = body(messages=[{"role": "user", "content": "x" * 101}])
    async with serving(create_app(fake_stack(max_message_chars=100))) as client:
        reply = await client.post("/v1/chat/completions", json=request)
    assert reply.status_code == 422
    assert reply.json()["error"]["field"] == "messages.0.content"


async def test_prompt_too_long_for_the_model_is_refused_before_any_work(fake_stack, script) -> None:
    script.max_model_len = 300  # the fake counts 4 characters per token
    request = body(messages=[{"role": "user", "content": "pods " * 200}], max_tokens=100)
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=request)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "context window of 300" in error["message"]
    assert script.chat_calls == {"count_tokens"}, "no moderation, embedding or retrieval first"


async def test_unknown_model_is_404(fake_stack, script) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=body(model="gpt-4o"))
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "model_not_found"
    assert not script.chat_calls


async def test_generation_failing_mid_stream_ends_with_an_error_and_no_done(
    fake_stack, script
) -> None:
    script.generate_error = grpc.StatusCode.INTERNAL
    async with serving(create_app(fake_stack())) as client:
        streamed = await client.post("/v1/chat/completions", json=body(stream=True))
        whole = await client.post("/v1/chat/completions", json=body())
    chunks = chunks_of(streamed.text)
    assert "[DONE]" not in chunks
    assert chunks[-1]["error"]["code"] == "dependency_unavailable"
    assert chunks[-1]["error"]["dependency"] == "generation"
    assert whole.status_code == 503 and whole.json()["error"]["dependency"] == "generation"
