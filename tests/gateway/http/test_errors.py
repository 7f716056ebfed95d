"""Every error is JSON with a stable code, against the real app and its lifespan."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from docent.v1 import generation_pb2_grpc, moderation_pb2, moderation_pb2_grpc
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.conftest import free_port
from tests.gateway.conftest import closed_addresses, serving
from tests.gateway.fakes import Generation, Script

TIMEOUT = 0.5


@pytest.fixture
async def client():
    settings = GatewaySettings(
        **closed_addresses(), moderation_timeout_s=TIMEOUT, readiness_timeout_s=TIMEOUT
    )
    async with serving(create_app(settings)) as client:
        yield client


def _error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == reply.headers["x-request-id"]
    return error


@pytest.mark.parametrize(
    "body",
    [{"message": ""}, {"message": "   \n\t "}, {"message": "x" * 4001}, {"stream": False}],
    ids=["empty", "whitespace", "oversized", "missing"],
)
async def test_bad_message_is_422_naming_the_field(client, body: dict) -> None:
    error = _error(await client.post("/v1/chat", json=body), 422, "invalid_request")
    assert error["field"] == "message"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hi", "conversation_id": "conv_nothex"}, "conversation_id"),
        ({"message": "hi", "max_tokens": 0}, "max_tokens"),
        ({"message": "hi", "temperature": 3}, "temperature"),
        ({"message": "hi", "unknown": 1}, "unknown"),
    ],
)
async def test_other_bad_fields_are_named(client, body: dict, field: str) -> None:
    error = _error(await client.post("/v1/chat", json=body), 422, "invalid_request")
    assert error["field"] == field


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"just a string"'])
async def test_body_that_is_not_a_json_object_is_422(client, content: bytes) -> None:
    reply = await client.post(
        "/v1/chat", content=content, headers={"content-type": "application/json"}
    )
    _error(reply, 422, "invalid_request")


async def test_unknown_route_and_wrong_method(client) -> None:
    _error(await client.get("/v1/nothing-here"), 404, "not_found")
    reply = await client.get("/v1/chat")
    _error(reply, 405, "method_not_allowed")
    assert "POST" in reply.headers["allow"]


async def test_huge_body_is_413(client) -> None:
    reply = await client.post(
        "/v1/chat", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    _error(reply, 413, "payload_too_large")


async def test_unknown_conversation_is_404(client) -> None:
    body = {"message": "hi", "conversation_id": "conv_" + "0" * 32}
    _error(await client.post("/v1/chat", json=body), 404, "not_found")


async def test_request_id_is_taken_when_sane_and_minted_otherwise(client) -> None:
    reply = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert reply.headers["x-request-id"] == "abc-123"
    reply = await client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
    assert reply.headers["x-request-id"] != "bad id\twith spaces"
    assert len(reply.headers["x-request-id"]) == 16


async def test_healthz_and_metrics(client) -> None:
    reply = await client.get("/healthz")
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}
    await client.get("/v1/nothing-here")
    text = (await client.get("/metrics")).text
    assert "docent_gateway_request_seconds_bucket" in text
    assert 'route="/healthz"' in text
    assert 'route="unmatched"' in text and "nothing-here" not in text
    assert 'docent_gateway_errors_total{code="not_found"}' in text


@pytest.mark.parametrize("stream", [True, False])
async def test_dependencies_down_is_503_naming_generation(client, stream: bool) -> None:
    """The prompt's length is counted by the generation service before any other call."""
    start = time.monotonic()
    reply = await client.post("/v1/chat", json={"message": "How do I roll back?", "stream": stream})
    elapsed = time.monotonic() - start
    error = _error(reply, 503, "dependency_unavailable")
    assert error["dependency"] == "generation"
    assert elapsed < TIMEOUT + 2


async def test_readyz_stays_ready_and_lists_what_is_degraded(client) -> None:
    """Readiness does not cascade: every dependency down still leaves the gateway Ready (its
    answers degrade or fail with 503 JSON), so a restart elsewhere never empties its Service."""
    start = time.monotonic()
    reply = await client.get("/readyz")
    assert time.monotonic() - start < TIMEOUT + 2
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ready" and body["store"] == "ok"
    expected = {"embedding", "retrieval", "reranking", "moderation", "generation", "ingestion"}
    assert set(body["degraded"]) == expected
    assert set(body["dependencies"].values()) == {"NOT_SERVING"}


async def test_readyz_is_503_when_the_gateways_own_store_is_down() -> None:
    settings = GatewaySettings(
        **closed_addresses(),
        readiness_timeout_s=TIMEOUT,
        store="redis",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    )
    async with serving(create_app(settings)) as client:
        reply = await client.get("/readyz")
    assert reply.status_code == 503, reply.text
    body = reply.json()
    assert body["status"] == "not_ready" and body["store"] == "unavailable"


class SlowModeration(moderation_pb2_grpc.ModerationServicer):
    async def Check(self, request, context):
        await asyncio.sleep(5)
        return moderation_pb2.CheckResponse(decision=moderation_pb2.DECISION_ALLOW)


async def test_slow_dependency_is_503_after_its_timeout() -> None:
    server = grpc.aio.server()
    moderation_pb2_grpc.add_ModerationServicer_to_server(SlowModeration(), server)
    generation_pb2_grpc.add_GenerationServicer_to_server(Generation(Script()), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        address = f"127.0.0.1:{port}"
        settings = GatewaySettings(
            **{**closed_addresses(), "moderation_address": address, "generation_address": address},
            moderation_timeout_s=TIMEOUT,
        )
        async with serving(create_app(settings)) as client:
            start = time.monotonic()
            reply = await client.post("/v1/chat", json={"message": "hello", "stream": False})
            elapsed = time.monotonic() - start
        error = _error(reply, 503, "dependency_unavailable")
        assert error["dependency"] == "moderation"
        assert "deadline" in error["message"]
        assert TIMEOUT * 0.8 < elapsed < TIMEOUT + 2
    finally:
        await server.stop(0)


async def test_request_deadline_bounds_all_stages_together() -> None:
    server = grpc.aio.server()
    moderation_pb2_grpc.add_ModerationServicer_to_server(SlowModeration(), server)
    generation_pb2_grpc.add_GenerationServicer_to_server(Generation(Script()), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        address = f"127.0.0.1:{port}"
        settings = GatewaySettings(
            **{**closed_addresses(), "moderation_address": address, "generation_address": address},
            moderation_timeout_s=30,
            request_timeout_s=TIMEOUT,
        )
        async with serving(create_app(settings)) as client:
            start = time.monotonic()
            reply = await client.post("/v1/chat", json={"message": "hello"})
            elapsed = time.monotonic() - start
        error = _error(reply, 503, "dependency_unavailable")
        assert error["dependency"] == "moderation" and "request deadline" in error["message"]
        assert elapsed < TIMEOUT + 2
    finally:
        await server.stop(0)
