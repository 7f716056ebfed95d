"""Checkpoints that survive a kill at any moment: written beside their place, then renamed.

``checkpoints/step-000040/`` holds the adapter, the optimizer and scheduler (or DeepSpeed's
own sharded state) and ``state.json``; only folders with ``state.json`` count, so a half-written
one from a killed pod is ignored and swept.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def checkpoint_dir(root: Path, step: int) -> Path:
    return root / "checkpoints" / f"step-{step:06d}"


def latest_checkpoint(root: Path) -> Path | None:
    found = sorted((root / "checkpoints").glob("step-*/state.json"))
    return found[-1].parent if found else None


def write_checkpoint(
    root: Path, step: int, state: dict[str, Any], save: Callable[[Path], None], keep: int
) -> Path:
    """Run ``save(tmp)``, add ``state.json`` last, rename into place, prune old ones."""
    parent = root / "checkpoints"
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(".step-*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".step-{step:06d}.", suffix=".tmp", dir=parent))
    try:
        save(tmp)
        (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=2))
        target = checkpoint_dir(root, step)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in sorted(parent.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def read_state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "state.json").read_text())


def publish_dir(build: Callable[[Path], None], target: Path) -> Path:
    """Build a folder next to ``target`` and swap it in (the old one is removed after)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        build(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
