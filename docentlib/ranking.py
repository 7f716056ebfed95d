"""Blending a cross-encoder's order with the retrieval order it reranks (used by every caller
of the reranking service, so serving and evaluation rank the same way).

A cross-encoder is strong where it is sure and noisy elsewhere; the fused retrieval order is
robust. Rank fusion of the two keeps what each is good at: ``weight`` 0 keeps the retrieval
order, a large weight approaches the pure cross-encoder order.

How much to trust the cross-encoder is decided per query from its own scores (``adaptive``):
when one candidate stands out from the others (a high z-score of the best score, see
:func:`rerank_confidence`) the reranker has found something, and its order counts fully; when
its scores are flat it is guessing, and the retrieval order stands. This keeps an untrained
model (the packaged MiniLM with the MaxSim head, served when nothing is trained) from making
ranking worse on text unlike what it was trained on (on a corpus of short command-line help
pages its order at full weight was reported to lower nDCG@10 from 0.763 to 0.726). ``LOW`` and
``HIGH`` were calibrated with ``bench/rerank_blend.py`` on a corpus built for it (command-line
help pages, ``tests/data/cli-help``) and checked on others (docs/retrieval.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

BLEND_K = 20  # rank-fusion constant for short candidate lists (tens, not thousands)
LOW, HIGH = 1.0, 3.0  # confidence (z-score of the best score) at which trust starts / is full


def rerank_confidence(scores: Sequence[float]) -> float:
    """How far the best score stands above the others, in standard deviations (0 if flat)."""
    if len(scores) < 2:
        return 0.0
    spread = statistics.pstdev(scores)
    if spread <= 0:
        return 0.0
    return (max(scores) - statistics.fmean(scores)) / spread


def ramp(value: float, low: float, high: float) -> float:
    """0 up to ``low``, linear to 1 at ``high``."""
    share = (value - low) / (high - low) if high > low else float(value >= low)
    return min(max(share, 0.0), 1.0)


def effective_weight(
    scores: Sequence[float],
    weight: float,
    low: float = LOW,
    high: float = HIGH,
) -> float:
    """``weight`` scaled by the confidence: 0 up to ``low``, linear to full at ``high``."""
    return weight * ramp(rerank_confidence(scores), low, high)


def blend_rerank(
    prior: Sequence[int],
    scores: Sequence[float],
    weight: float = 1.0,
    k: int = BLEND_K,
    adaptive: bool = True,
    low: float = LOW,
    high: float = HIGH,
) -> list[int]:
    """Candidates ``prior`` (best first) reordered by ``1/(k+r_prior) + w/(k+r_score)``.

    ``scores[i]`` is the cross-encoder score of ``prior[i]``; ``w`` is ``weight``, scaled by
    :func:`effective_weight` when ``adaptive``. Returns the candidates in the blended order;
    ties keep the prior order.
    """
    if len(prior) != len(scores):
        raise ValueError(f"{len(prior)} candidates but {len(scores)} scores")
    w = effective_weight(scores, weight, low, high) if adaptive else weight
    by_score = sorted(range(len(prior)), key=lambda i: (-scores[i], i))
    score_rank = {i: r for r, i in enumerate(by_score, start=1)}
    blended = [
        (1.0 / (k + p) + w / (k + score_rank[i]), -p, i)
        for i, p in enumerate(range(1, len(prior) + 1))
    ]
    blended.sort(reverse=True)
    return [prior[i] for _, _, i in blended]
