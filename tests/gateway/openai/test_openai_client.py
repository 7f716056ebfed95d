"""The official ``openai`` client, unchanged, against the gateway served by uvicorn.

The dependencies here are scripted gRPC stand-ins (fast, exact answers to compare); the same
client against the real models is in tests/e2e/test_openai_e2e.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import openai
import pytest

from services.gateway.access.keys import open_key_store
from services.gateway.app import create_app
from tests.gateway.conftest import served
from tests.gateway.fakes import ANSWER

QUESTION = "How do I roll back a Deployment?"


@pytest.fixture
async def gateway(fake_stack) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Base URL of a served gateway, and tokens of a chat key and of an ingest-only key."""
    settings = fake_stack()
    store = open_key_store(settings)
    tokens = {scope: store.create(f"{scope}-key", [scope])[1] for scope in ("chat", "ingest")}
    store.close()
    async with served(create_app(settings)) as url:
        yield f"{url}/v1", tokens


@pytest.fixture
async def oai(gateway) -> AsyncIterator[openai.AsyncOpenAI]:
    url, tokens = gateway
    client = openai.AsyncOpenAI(base_url=url, api_key=tokens["chat"], max_retries=0)
    yield client
    await client.close()


async def test_create_returns_the_answer_and_its_sources(oai) -> None:
    completion = await oai.chat.completions.create(
        model="docent", messages=[{"role": "user", "content": QUESTION}], max_tokens=64
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "".join(ANSWER)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 51
    extra = completion.model_extra or {}
    assert [s["n"] for s in extra["sources"]] == [1, 2, 3, 4, 5]
    assert extra["docent"]["citations"] == [1, 2]


async def test_stream_with_usage(oai) -> None:
    stream = await oai.chat.completions.create(
        model="docent",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(ANSWER)
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finish] == ["stop"]
    assert len((finish[0].model_extra or {})["sources"]) == 5
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 42 and chunks[-1].usage.completion_tokens == 9


async def test_models_list(oai) -> None:
    models = [m.id async for m in oai.models.list()]
    assert models == ["docent"]
    assert (await oai.models.retrieve("docent")).owned_by == "docent"


async def test_errors_surface_as_the_clients_exceptions(oai, script) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        await oai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
        )
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        await oai.chat.completions.create(
            model="docent", messages=[{"role": "user", "content": QUESTION}], temperature=3
        )
    assert invalid.value.code == "invalid_request"
    script.max_model_len = 50
    with pytest.raises(openai.BadRequestError) as too_long:
        await oai.chat.completions.create(
            model="docent", messages=[{"role": "user", "content": QUESTION * 10}]
        )
    assert too_long.value.code == "context_length_exceeded"


async def test_failure_mid_stream_raises_in_the_client(oai, script) -> None:
    script.generate_error = grpc.StatusCode.UNAVAILABLE
    stream = await oai.chat.completions.create(
        model="docent", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    with pytest.raises(openai.APIError, match="generation"):
        async for _ in stream:
            pass


async def test_api_keys_apply_to_the_openai_routes(gateway) -> None:
    url, tokens = gateway
    for token, error in (
        ("sk-not-a-key", openai.AuthenticationError),
        (tokens["ingest"], openai.PermissionDeniedError),
    ):
        async with openai.AsyncOpenAI(base_url=url, api_key=token, max_retries=0) as client:
            with pytest.raises(error):
                await client.chat.completions.create(
                    model="docent", messages=[{"role": "user", "content": QUESTION}]
                )
            with pytest.raises(error):
                await client.models.list()
