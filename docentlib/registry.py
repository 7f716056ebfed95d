"""One way to choose a backend: a registry of lazily imported factories keyed by a setting.

Every service picks its implementation (generation engine, toxicity backend, retrieval store,
reranker head...) from a string in its settings. The registry maps each name to
``"module:attribute"`` and imports the module only when that name is chosen, so an engine's
heavy dependencies (torch, vLLM, opensearch-py) cost nothing unless it is used, and an unknown
name fails once, at load, with the valid choices named.

Usage::

    ENGINES: Registry[EngineLoader] = Registry(
        "generation engine",
        {"transformers": "services.generation.engines.transformers_engine:TransformersEngine.load"},
    )
    load = ENGINES.get(settings.engine)  # InvalidInput naming the choices when unknown
    engine = await load(settings)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar, cast

from docentlib.errors import InvalidInput, Unavailable

T = TypeVar("T")


class Registry(Generic[T]):
    """Named factories of one kind, resolved from ``"module:attr.path"`` on first use."""

    def __init__(
        self, kind: str, entries: Mapping[str, str], hints: Mapping[str, str] | None = None
    ):
        """:param kind: what is being chosen, for error messages ("generation engine").
        :param entries: setting value -> ``"module:attribute"`` (attribute may be dotted).
        :param hints: setting value -> how to install what it needs, shown when the import fails.
        """
        for name, target in entries.items():
            if ":" not in target:
                raise ValueError(f"{kind} {name!r}: target {target!r} is not 'module:attribute'")
        self.kind = kind
        self._entries = dict(entries)
        self._hints = dict(hints or {})

    def names(self) -> list[str]:
        """The valid choices, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> T:
        """The factory registered as ``name``; unknown names and missing packages are named."""
        target = self._entries.get(str(name))
        if target is None:
            raise InvalidInput(f"unknown {self.kind} {name!r}; valid choices: {self.names()}")
        module_name, _, attribute = target.partition(":")
        try:
            found: object = importlib.import_module(module_name)
        except ImportError as exc:
            hint = self._hints.get(str(name), "")
            raise Unavailable(
                f"{self.kind} {name!r} cannot be loaded: {exc}" + (f" ({hint})" if hint else "")
            ) from exc
        for part in attribute.split("."):
            found = getattr(found, part)
        return cast(T, found)
