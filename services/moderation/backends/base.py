"""The interface every toxicity backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ToxicityBackend(Protocol):
    """Scores texts for toxicity; each score in [0, 1], keyed by category name."""

    name: str

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """One ``{category: score}`` per text, in input order."""
        ...
