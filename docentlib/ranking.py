"""Blending a cross-encoder's order with the retrieval order it reranks (used by every caller
of the reranking service, so serving and evaluation rank the same way).

A cross-encoder trained on a few hundred queries is strong at the top and noisy below; the
fused retrieval order is robust. Rank fusion of the two keeps what each is good at, so
reranking adds to retrieval instead of replacing it: ``weight`` 0 keeps the retrieval order,
a large weight approaches the pure cross-encoder order.
"""

from __future__ import annotations

from collections.abc import Sequence

BLEND_K = 20  # rank-fusion constant for short candidate lists (tens, not thousands)


def blend_rerank(
    prior: Sequence[int], scores: Sequence[float], weight: float = 1.0, k: int = BLEND_K
) -> list[int]:
    """Candidates ``prior`` (best first) reordered by ``1/(k+r_prior) + weight/(k+r_score)``.

    ``scores[i]`` is the cross-encoder score of ``prior[i]``. Returns the candidates in the
    blended order; ties keep the prior order.
    """
    if len(prior) != len(scores):
        raise ValueError(f"{len(prior)} candidates but {len(scores)} scores")
    by_score = sorted(range(len(prior)), key=lambda i: (-scores[i], i))
    score_rank = {i: r for r, i in enumerate(by_score, start=1)}
    blended = [
        (1.0 / (k + p) + weight / (k + score_rank[i]), -p, i)
        for i, p in enumerate(range(1, len(prior) + 1))
    ]
    blended.sort(reverse=True)
    return [prior[i] for _, _, i in blended]
