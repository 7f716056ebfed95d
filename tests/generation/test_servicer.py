"""The generation servicer over real gRPC: readiness, streaming, usage, errors, metrics and
upstream cancellation."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from docent.v1 import generation_pb2, generation_pb2_grpc
from docentlib.errors import InvalidInput
from services.generation.servicer import GenerationServicer
from services.generation.settings import GenerationSettings
from services.runtime.clients import Endpoint, GenerationClient
from tests.serving import Served, error_count, rpc_count, rpc_status, serve_in_process

CHAT = [("user", "Name three colours.")]


def _count_tokens(channel: grpc.aio.Channel, text: str = "hello"):
    request = generation_pb2.CountTokensRequest(text=text)
    return generation_pb2_grpc.GenerationStub(channel).CountTokens(request, timeout=60)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(generation_settings: GenerationSettings):
    """The servicer's own load(): the engine the settings name (the session's converted
    SmolLM2, so no second conversion)."""
    servicer = GenerationServicer(generation_settings)
    async with serve_in_process(generation_settings, servicer, _count_tokens) as served:
        yield served, servicer


@pytest_asyncio.fixture(loop_scope="session")
async def client(served: tuple[Served, GenerationServicer]):
    client = GenerationClient(Endpoint("generation", served[0].address, 60.0))
    yield client
    await client.close()


async def test_not_serving_until_the_model_is_loaded(
    served: tuple[Served, GenerationServicer],
) -> None:
    state, servicer = served
    assert state.health_before_load == "NOT_SERVING"
    assert state.probe_before_load is not None
    code, details = state.probe_before_load
    assert code == grpc.StatusCode.UNAVAILABLE and "still loading" in details
    assert state.health_after_load == "SERVING" and servicer.engine is not None


async def test_stream_ends_with_usage(client: GenerationClient) -> None:
    before = rpc_count("generation", "Generate")
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
    assert rpc_count("generation", "Generate") == before + 1


async def test_count_tokens(client: GenerationClient) -> None:
    before = rpc_count("generation", "CountTokens")
    count, max_len = await client.count_tokens(CHAT)
    assert 5 < count < 40 and max_len == 2048
    assert rpc_count("generation", "CountTokens") == before + 1


async def test_invalid_params_are_invalid_argument(
    served: tuple[Served, GenerationServicer], client: GenerationClient
) -> None:
    before = error_count("generation", "Generate", "INVALID_ARGUMENT")
    with pytest.raises(InvalidInput, match="temperature"):
        async for _ in client.generate(CHAT, max_tokens=5, temperature=5.0):
            pass
    with pytest.raises(InvalidInput, match="at least one message"):
        async for _ in client.generate([], max_tokens=5):
            pass
    assert error_count("generation", "Generate", "INVALID_ARGUMENT") == before + 2
    before = error_count("generation", "CountTokens", "INVALID_ARGUMENT")
    code, details = await rpc_status(_count_tokens(served[0].channel, ""))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "give messages or text" in details
    assert error_count("generation", "CountTokens", "INVALID_ARGUMENT") == before + 1


async def test_leaving_the_stream_cancels_generation_upstream(
    served: tuple[Served, GenerationServicer], client: GenerationClient
) -> None:
    engine = served[1].engine
    assert engine is not None
    received = 0
    async for _ in client.generate(CHAT, max_tokens=500):
        received += 1
        if received == 3:
            assert REGISTRY.get_sample_value("docent_generation_requests_running") == 1
            break  # the client's finally cancels the RPC
    for _ in range(1500):  # within one decode step; generous for a loaded CI machine
        if engine.stats().running == 0:
            break
        await asyncio.sleep(0.02)
    assert engine.stats().running == 0
    assert REGISTRY.get_sample_value("docent_generation_requests_running") == 0  # read at scrape
    replies = [r async for r in client.generate(CHAT, max_tokens=3)]
    assert replies[-1].usage.completion_tokens == 3


async def test_adapter_reaches_the_engine(client: GenerationClient) -> None:
    with pytest.raises(InvalidInput, match="adapter 'support-v1'"):
        async for _ in client.generate(CHAT, max_tokens=5, adapter="support-v1"):
            pass


async def test_structured_output_over_grpc(client: GenerationClient) -> None:
    schema = json.dumps(
        {
            "type": "object",
            "properties": {"colour": {"enum": ["red", "blue"]}},
            "required": ["colour"],
            "additionalProperties": False,
        }
    )
    replies = [r async for r in client.generate(CHAT, max_tokens=24, json_schema=schema)]
    text = "".join(r.text for r in replies)
    assert json.loads(text)["colour"] in ("red", "blue")
    assert replies[-1].finish_reason == generation_pb2.FINISH_REASON_STOP


async def test_a_structured_field_naming_nothing_is_refused(client: GenerationClient) -> None:
    request = generation_pb2.GenerateRequest(
        messages=[generation_pb2.ChatMessage(role="user", content="hi")],
        sampling=generation_pb2.SamplingParams(max_tokens=4),
        structured=generation_pb2.StructuredOutput(),
    )
    call = client._stub.Generate(request, timeout=30)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "neither json_schema nor grammar" in info.value.details()
