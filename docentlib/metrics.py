"""Ranking metrics at document level, as BEIR and pytrec_eval define them.

``ranked`` is a list of document ids, best first (no repeats); ``relevant`` maps a document id
to its graded relevance (> 0 means relevant). nDCG uses graded gains ``rel`` with a
``log2(rank + 1)`` discount; the others count any positive grade as relevant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def hit_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    return 1.0 if any(relevant.get(d, 0) > 0 for d in ranked[:k]) else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def documents_from_chunks(chunk_docs: Sequence[str]) -> list[str]:
    """Document ranking from a chunk ranking: a document ranks by its best chunk."""
    return list(dict.fromkeys(chunk_docs))


def summarise(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean of each metric over the queries of ``runs`` (query id -> ranked document ids)."""
    metrics = {
        "ndcg@10": lambda r, q: ndcg_at_k(r, q, 10),
        "recall@100": lambda r, q: recall_at_k(r, q, 100),
        "mrr@10": lambda r, q: mrr_at_k(r, q, 10),
        "hit@1": lambda r, q: hit_at_k(r, q, 1),
        "hit@5": lambda r, q: hit_at_k(r, q, 5),
        "hit@10": lambda r, q: hit_at_k(r, q, 10),
    }
    n = len(runs)
    return {
        name: (sum(fn(runs[qid], qrels[qid]) for qid in runs) / n if n else 0.0)
        for name, fn in metrics.items()
    }
