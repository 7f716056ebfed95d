"""The interface every toxicity backend implements, and how one is built from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.moderation.settings import ModerationSettings


class ToxicityBackend(Protocol):
    """Scores texts for toxicity; each score in [0, 1], keyed by category name."""

    name: str

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One ``{category: score}`` per text, in input order."""
        ...


# What the registry in services.moderation.core maps each backend name to: a factory that
# reads what it needs from the settings and fails with Unavailable when it cannot load.
ToxicityLoader = Callable[["ModerationSettings"], ToxicityBackend]
