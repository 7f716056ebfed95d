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


ENGINES: dict[str, EngineLoader] = {"transformers": _load_transformers}


async def build_engine(settings: GenerationSettings) -> Engine:
    """Load the engine ``settings.engine`` names (model resolution and conversion included)."""
    name = str(settings.engine)
    loader = ENGINES.get(name)
    if loader is None:
        raise InvalidInput(f"unknown engine {name!r}; valid choices: {sorted(ENGINES)}")
    return await loader(settings)
