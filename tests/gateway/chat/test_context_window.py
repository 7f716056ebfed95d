"""The context budget against the real generation service: exact counts, drops, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from docentlib.errors import InvalidInput
from services.gateway.chat.prompt import Passage, fit_prompt
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.servicer import GenerationServicer
from services.generation.settings import GenerationSettings
from services.runtime import server as runtime_server
from services.runtime.clients import Endpoint, GenerationClient

WINDOW = 512
QUESTION = "How do I roll back a Deployment?"
HISTORY = [
    ("user", "What is a Pod?"),
    ("assistant", "A Pod is the smallest deployable unit in Kubernetes. " * 3),
    ("user", "And a ReplicaSet?"),
    ("assistant", "A ReplicaSet keeps a stable set of replica Pods running. " * 3),
]


def _passages(n: int) -> list[Passage]:
    body = "Use kubectl rollout undo deployment/web to go back to the previous revision. " * 5
    return [Passage(f"Doc {i}", f"{i}: {body}", ["Rolling back"]) for i in range(1, n + 1)]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def generation(tmp_path_factory) -> AsyncIterator[GenerationClient]:
    root = tmp_path_factory.mktemp("ctx")
    settings = GenerationSettings(
        data_dir=root / "data", model_cache_dir=root / "models", port=0, metrics_port=0,
        max_model_len=WINDOW, threads=2,
    )  # fmt: skip
    servicer = GenerationServicer(settings)
    servicer.engine = await TransformersEngine.load(settings)
    running = await runtime_server.start(settings, servicer)
    client = GenerationClient(Endpoint("generation", f"127.0.0.1:{running.port}", 30.0))
    yield client
    await client.close()
    await running.server.stop(0)
    await servicer.close()


async def test_everything_fits_nothing_dropped(generation: GenerationClient) -> None:
    fitted = await fit_prompt(generation, QUESTION, _passages(1), HISTORY, 32)
    assert (fitted.passages, fitted.history_turns) == (1, 2)
    assert fitted.dropped_passages == [] and fitted.dropped_turns == 0
    count, window = await generation.count_tokens(fitted.messages)
    assert (fitted.prompt_tokens, fitted.max_model_len) == (count, window) == (count, WINDOW)


async def test_history_goes_first_then_lowest_ranked_passages(generation) -> None:
    passages = _passages(6)
    max_tokens = 128
    fitted = await fit_prompt(generation, QUESTION, passages, HISTORY, max_tokens)
    assert fitted.history_turns == 0 and fitted.dropped_turns == 2
    kept = fitted.passages
    assert 1 <= kept < 6
    assert fitted.dropped_passages == list(range(kept + 1, 7))
    assert fitted.messages[0][0] == "system" and fitted.messages[-1][1].endswith(QUESTION)
    assert fitted.prompt_tokens + max_tokens <= WINDOW  # fits, by the service's own count
    # and it is the largest prefix that fits: one more passage would not
    from services.gateway.chat.prompt import build_messages

    bigger, _ = await generation.count_tokens(build_messages(QUESTION, passages[: kept + 1]))
    assert bigger + max_tokens > WINDOW


async def test_refusals_before_generation(generation: GenerationClient) -> None:
    with pytest.raises(InvalidInput, match=f"max_tokens {WINDOW} leaves no room"):
        await fit_prompt(generation, QUESTION, _passages(1), [], WINDOW)
    with pytest.raises(InvalidInput, match=rf"exceeds the context window of {WINDOW}"):
        await fit_prompt(generation, "why? " * 400, _passages(2), HISTORY, 64)
