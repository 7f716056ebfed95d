"""Resolving models and the GGUF conversion cache (fake converters keep these fast)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from docentlib.errors import InvalidInput, Unavailable
from docentlib.model_store import cache_key, ensure_converted, resolve_llm
from services.generation.settings import GenerationSettings


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
    resolved = resolve_llm(GenerationSettings(model=str(tmp_path)))
    assert resolved.path == tmp_path and not resolved.converted


def test_a_folder_with_one_gguf_is_converted(tmp_path: Path) -> None:
    make_gguf(tmp_path / "m", "model.gguf")
    settings = GenerationSettings(model=str(tmp_path / "m"), model_cache_dir=tmp_path / "cache")
    resolved = resolve_llm(settings, convert=fake_convert)
    assert resolved.converted and resolved.model_id == "model"
    assert resolved.path.parent == tmp_path / "cache"


def test_missing_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match=re.escape(str(tmp_path / "absent"))):
        resolve_llm(GenerationSettings(model=str(tmp_path / "absent")))
    with pytest.raises(Unavailable, match=r"nope\.gguf"):
        resolve_llm(GenerationSettings(model=str(tmp_path), gguf_file="nope.gguf"))
    with pytest.raises(InvalidInput, match=r"no config\.json"):
        resolve_llm(GenerationSettings(model=str(tmp_path)))


def test_default_cache_is_under_the_data_dir(tmp_path: Path) -> None:
    settings = GenerationSettings(data_dir=tmp_path)
    assert settings.resolved_model_cache_dir() == tmp_path / "models"
