"""Choosing the engine named in the settings, so the servicer never imports a concrete one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from docentlib.registry import Registry
from services.generation.engines.base import Engine
from services.generation.settings import GenerationSettings

EngineLoader = Callable[[GenerationSettings], Awaitable[Engine]]

# Imported lazily: torch/transformers (or vLLM) cost seconds and only the chosen engine needs them.
ENGINES: Registry[EngineLoader] = Registry(
    "engine",
    {
        "transformers": "services.generation.engines.transformers_engine:TransformersEngine.load",
        "vllm": "services.generation.engines.vllm_engine:VllmEngine.load",
        "openai": "services.generation.engines.openai_engine:OpenAIEngine.load",
    },
)


async def build_engine(settings: GenerationSettings) -> Engine:
    """Load the engine ``settings.engine`` names (model resolution and conversion included)."""
    return await ENGINES.get(str(settings.engine))(settings)
