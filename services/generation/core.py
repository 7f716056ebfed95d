"""Choosing the engine named in the settings, so the servicer never imports a concrete one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.generation.engines.base import Engine
from services.generation.settings import GenerationSettings
from services.runtime.errors import InvalidInput

EngineLoader = Callable[[GenerationSettings], Awaitable[Engine]]


async def _load_transformers(settings: GenerationSettings) -> Engine:
    # Imported lazily: torch/transformers cost seconds and only the chosen engine needs them.
    from services.generation.engines.transformers_engine import TransformersEngine

    return await TransformersEngine.load(settings)


async def _load_vllm(settings: GenerationSettings) -> Engine:
    from services.generation.engines.vllm_engine import VllmEngine

    return await VllmEngine.load(settings)


async def _load_openai(settings: GenerationSettings) -> Engine:
    from services.generation.engines.openai_engine import OpenAIEngine

    return await OpenAIEngine.load(settings)


ENGINES: dict[str, EngineLoader] = {
    "transformers": _load_transformers,
    "vllm": _load_vllm,
    "openai": _load_openai,
}


async def build_engine(settings: GenerationSettings) -> Engine:
    """Load the engine ``settings.engine`` names (model resolution and conversion included)."""
    name = str(settings.engine)
    loader = ENGINES.get(name)
    if loader is None:
        raise InvalidInput(f"unknown engine {name!r}; valid choices: {sorted(ENGINES)}")
    return await loader(settings)
