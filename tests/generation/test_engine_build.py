"""Building engines from settings: the registry's errors and the reused GGUF conversion."""

from __future__ import annotations

import pytest

from docentlib.errors import InvalidInput, Unavailable
from services.generation.core import build_engine
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.settings import GenerationSettings


async def test_unknown_engine_lists_the_choices() -> None:
    settings = GenerationSettings().model_copy(update={"engine": "tgi"})
    with pytest.raises(InvalidInput, match=r"'tgi'.*\['openai', 'transformers', 'vllm'\]"):
        await build_engine(settings)


async def test_vllm_without_the_package_says_how_to_get_it() -> None:
    pytest.importorskip("transformers")
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here; tests/generation/test_vllm_engine.py covers it")
    settings = GenerationSettings().model_copy(update={"engine": "vllm"})
    with pytest.raises(Unavailable, match="make venv-vllm"):
        await build_engine(settings)


async def test_the_real_conversion_is_reused(
    engine: TransformersEngine, generation_settings: GenerationSettings
) -> None:
    cache = engine.source.path
    assert cache.parent == generation_settings.model_cache_dir
    assert (cache / "model.safetensors").is_file() and (cache / "chat_template.jinja").is_file()
    before = cache.stat().st_mtime_ns
    again = await build_engine(generation_settings)
    try:
        assert isinstance(again, TransformersEngine)
        assert again.source.path == cache and not again.source.converted
        assert cache.stat().st_mtime_ns == before
        assert [p for p in cache.parent.iterdir() if not p.name.endswith(".lock")] == [cache]
    finally:
        await again.close()
