"""One real engine for the whole session: the GGUF conversion (~30 s) is paid once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.generation.engines.base import ChatMessage, Finish, SamplingParams, TokenDelta
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.settings import GenerationSettings


@pytest.fixture(scope="session")
def generation_settings(
    tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path
) -> GenerationSettings:
    root = tmp_path_factory.mktemp("generation")
    # The session's one converted SmolLM2 (tests/conftest.py), shared with the training tests.
    cache = smollm2_path.parent
    return GenerationSettings(data_dir=root / "data", model_cache_dir=cache, threads=2)


@pytest_asyncio.fixture(scope="session")
async def engine(generation_settings: GenerationSettings) -> AsyncIterator[TransformersEngine]:
    engine = await TransformersEngine.load(generation_settings)
    yield engine
    await engine.close()


async def collect(
    engine: TransformersEngine, messages: list[ChatMessage], params: SamplingParams
) -> tuple[list[TokenDelta], Finish]:
    """Every delta and the Finish of one stream, checking the Finish comes last and once."""
    deltas: list[TokenDelta] = []
    finishes: list[Finish] = []
    async for item in engine.stream(messages, params):
        assert not finishes, "nothing may follow the Finish"
        if isinstance(item, Finish):
            finishes.append(item)
        else:
            deltas.append(item)
    assert len(finishes) == 1
    return deltas, finishes[0]


def text_of(deltas: list[TokenDelta]) -> str:
    return "".join(d.text for d in deltas)
