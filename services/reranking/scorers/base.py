"""The interface every cross-encoder kind implements, and how one is loaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.reranking.settings import RerankingSettings


class PairScorer(Protocol):
    """Scores (query, passage) pairs with a loaded model; higher is more relevant."""

    def scores(self, query: str, passages: Sequence[str], batch_size: int) -> list[float]:
        """One score per passage, in input order (no gradients)."""
        ...


# What the registry in services.reranking.core maps each head name to: a loader of the model
# folder at ``path`` on the settings' device, within its token limit.
ScorerLoader = Callable[[Path, "RerankingSettings"], PairScorer]
