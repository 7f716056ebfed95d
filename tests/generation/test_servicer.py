"""The generation servicer over real gRPC: streaming, usage, errors and upstream cancellation."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from docent.v1 import generation_pb2
from docentlib.errors import InvalidInput
from services.generation.servicer import GenerationServicer
from services.generation.settings import GenerationSettings
from services.runtime import server as runtime_server
from services.runtime.clients import Endpoint, GenerationClient

CHAT = [("user", "Name three colours.")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(engine, generation_settings: GenerationSettings):
    settings = generation_settings.model_copy(update={"port": 0, "metrics_port": 0})
    servicer = GenerationServicer(settings)
    servicer.engine = engine  # the session's loaded engine; load() is tested by the e2e stack
    running = await runtime_server.start(settings, servicer)
    client = GenerationClient(Endpoint("generation", f"127.0.0.1:{running.port}", 60.0))
    yield client
    await client.close()
    await running.server.stop(0)


async def test_stream_ends_with_usage(client: GenerationClient) -> None:
    replies = [r async for r in client.generate(CHAT, max_tokens=12)]
    assert len(replies) > 3
    assert all(r.finish_reason == generation_pb2.FINISH_REASON_UNSPECIFIED for r in replies[:-1])
    last = replies[-1]
    assert last.finish_reason in (
        generation_pb2.FINISH_REASON_LENGTH,
        generation_pb2.FINISH_REASON_STOP,
    )
    assert 0 < last.usage.completion_tokens <= 12 and last.usage.prompt_tokens > 5
    assert "".join(r.text for r in replies).strip()
    ttft = REGISTRY.get_sample_value("docent_generation_time_to_first_token_seconds_count")
    assert ttft and ttft >= 1


async def test_count_tokens(client: GenerationClient) -> None:
    count, max_len = await client.count_tokens(CHAT)
    assert 5 < count < 40 and max_len == 2048


async def test_invalid_params_are_invalid_argument(client: GenerationClient) -> None:
    with pytest.raises(InvalidInput, match="temperature"):
        async for _ in client.generate(CHAT, max_tokens=5, temperature=5.0):
            pass
    with pytest.raises(InvalidInput, match="at least one message"):
        async for _ in client.generate([], max_tokens=5):
            pass


async def test_leaving_the_stream_cancels_generation_upstream(client, engine) -> None:
    received = 0
    async for _ in client.generate(CHAT, max_tokens=500):
        received += 1
        if received == 3:
            assert REGISTRY.get_sample_value("docent_generation_requests_running") == 1
            break  # the client's finally cancels the RPC
    for _ in range(1500):  # within one decode step; generous for a loaded CI machine
        if engine.running == 0:
            break
        await asyncio.sleep(0.02)
    assert engine.running == 0
    assert REGISTRY.get_sample_value("docent_generation_requests_running") == 0  # read at scrape
    replies = [r async for r in client.generate(CHAT, max_tokens=3)]
    assert replies[-1].usage.completion_tokens == 3


async def test_adapter_reaches_the_engine(client: GenerationClient) -> None:
    with pytest.raises(InvalidInput, match="adapter 'support-v1'"):
        async for _ in client.generate(CHAT, max_tokens=5, adapter="support-v1"):
            pass
