"""Resolving models and the GGUF conversion cache (fake converters keep these fast)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from services.generation.core import build_engine
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.model_store import cache_key, ensure_converted, resolve_model
from services.generation.settings import GenerationSettings
from services.runtime.errors import InvalidInput, Unavailable


def fake_convert(gguf: Path, dest: Path) -> None:
    (dest / "config.json").write_text("{}")
    (dest / "model.safetensors").write_bytes(gguf.read_bytes())


def make_gguf(folder: Path, name: str = "tiny.gguf") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"GGUF fake")
    return path


def test_converts_once_then_reuses(tmp_path: Path) -> None:
    gguf = make_gguf(tmp_path / "src")
    calls: list[Path] = []

    def convert(src: Path, dest: Path) -> None:
        calls.append(dest)
        fake_convert(src, dest)

    first, converted = ensure_converted(gguf, tmp_path / "cache", convert)
    assert converted and (first / "config.json").is_file()
    again, converted = ensure_converted(gguf, tmp_path / "cache", convert)
    assert again == first and not converted and len(calls) == 1
    assert not list((tmp_path / "cache").glob(".*.tmp")), "no temp folder is left behind"


def test_a_changed_source_gets_a_new_cache_entry(tmp_path: Path) -> None:
    gguf = make_gguf(tmp_path / "src")
    key = cache_key(gguf)
    os.utime(gguf, ns=(1, 1))
    assert cache_key(gguf) != key


def test_a_killed_conversion_leaves_no_cache_entry(tmp_path: Path) -> None:
    gguf = make_gguf(tmp_path / "src")

    def dies(src: Path, dest: Path) -> None:
        (dest / "config.json").write_text("{}")  # half written, then killed
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_converted(gguf, tmp_path / "cache", dies)
    assert list((tmp_path / "cache").iterdir()) == [
        tmp_path / "cache" / f".tiny-{cache_key(gguf)}.lock"
    ]
    _, converted = ensure_converted(gguf, tmp_path / "cache", fake_convert)
    assert converted


def test_concurrent_conversions_convert_once(tmp_path: Path) -> None:
    gguf = make_gguf(tmp_path / "src")
    calls: list[int] = []
    results: list[Path] = []

    def slow(src: Path, dest: Path) -> None:
        calls.append(1)
        threading.Event().wait(0.2)
        fake_convert(src, dest)

    threads = [
        threading.Thread(target=lambda: results.append(ensure_converted(gguf, tmp_path, slow)[0]))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(set(results)) == 1


def test_a_plain_hf_folder_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    resolved = resolve_model(GenerationSettings(model=str(tmp_path)))
    assert resolved.path == tmp_path and not resolved.converted


def test_a_folder_with_one_gguf_is_converted(tmp_path: Path) -> None:
    make_gguf(tmp_path / "m", "model.gguf")
    settings = GenerationSettings(model=str(tmp_path / "m"), model_cache_dir=tmp_path / "cache")
    resolved = resolve_model(settings, convert=fake_convert)
    assert resolved.converted and resolved.model_id == "model"
    assert resolved.path.parent == tmp_path / "cache"


def test_missing_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match=re.escape(str(tmp_path / "absent"))):
        resolve_model(GenerationSettings(model=str(tmp_path / "absent")))
    with pytest.raises(Unavailable, match=r"nope\.gguf"):
        resolve_model(GenerationSettings(model=str(tmp_path), gguf_file="nope.gguf"))
    with pytest.raises(InvalidInput, match=r"no config\.json"):
        resolve_model(GenerationSettings(model=str(tmp_path)))


def test_default_cache_is_under_the_data_dir(tmp_path: Path) -> None:
    settings = GenerationSettings(data_dir=tmp_path)
    assert settings.resolved_model_cache_dir() == tmp_path / "models"


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
