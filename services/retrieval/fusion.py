"""Reciprocal rank fusion (Cormack et al., 2009): merge rankings using ranks, not raw scores.

BM25 and cosine scores live on unrelated scales, so fusing by rank is the robust default:
``score(d) = sum over retrievers r of weight_r / (k + rank_r(d))`` with 1-based ranks.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from docentlib.errors import InvalidInput

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Fused(Generic[T]):
    """One fused item: its id, fused score, and the 1-based rank each retriever gave it."""

    id: T
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[T]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[Fused[T]]:
    """Fuse ranked id lists (best first), keyed by retriever name, into one list, best first.

    A retriever without an entry in ``weights`` weighs 1.0. An id repeated within one ranking
    keeps its first (best) rank. Ties are broken by the best rank any retriever gave, then by
    first appearance, so the result is deterministic.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise InvalidInput(f"rrf k must be an integer >= 0, got {k!r}")
    weights = dict(weights or {})
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise InvalidInput(f"weight of {name!r} must be a finite number >= 0, got {weight!r}")

    scores: dict[T, float] = {}
    ranks: dict[T, dict[str, int]] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        for position, item in enumerate(ranking, start=1):
            item_ranks = ranks.setdefault(item, {})
            if name in item_ranks:
                continue
            item_ranks[name] = position
            scores[item] = scores.get(item, 0.0) + weight / (k + position)

    order = {item: i for i, item in enumerate(ranks)}
    fused = [Fused(item, scores[item], ranks[item]) for item in ranks]
    fused.sort(key=lambda f: (-f.score, min(f.ranks.values()), order[f.id]))
    return fused


def normalized_score_fusion(
    results: Mapping[str, Sequence[tuple[T, float]]],
    weights: Mapping[str, float] | None = None,
) -> list[Fused[T]]:
    """Fuse scored lists by min-max normalising each to [0, 1] and summing with weights.

    Unlike RRF this keeps *how much* better one hit is than the next, which helps when one
    retriever is confident; it is sensitive to outliers, so RRF stays the default. A list whose
    scores are all equal normalises to 1.0 for every hit (it expresses no preference).
    """
    weights = dict(weights or {})
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise InvalidInput(f"weight of {name!r} must be a finite number >= 0, got {weight!r}")
    scores: dict[T, float] = {}
    ranks: dict[T, dict[str, int]] = {}
    for name, hits in results.items():
        weight = weights.get(name, 1.0)
        values = [s for _, s in hits]
        if not values:
            continue
        low, high = min(values), max(values)
        span = high - low
        for position, (item, score) in enumerate(hits, start=1):
            item_ranks = ranks.setdefault(item, {})
            if name in item_ranks:
                continue
            item_ranks[name] = position
            norm = (score - low) / span if span > 0 else 1.0
            scores[item] = scores.get(item, 0.0) + weight * norm
    order = {item: i for i, item in enumerate(ranks)}
    fused = [Fused(item, scores[item], ranks[item]) for item in ranks]
    fused.sort(key=lambda f: (-f.score, min(f.ranks.values()), order[f.id]))
    return fused
