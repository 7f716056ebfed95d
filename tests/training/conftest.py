"""Shared config writer for the toy training runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_config(path: Path, **sections: Any) -> Path:
    """A job config YAML (what a ConfigMap would carry) with the given sections."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(_plain(sections), sort_keys=False))
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value
