"""Blending a cross-encoder's order with the retrieval order, by hand."""

from __future__ import annotations

import pytest

from docentlib.passages import rerank_text
from docentlib.ranking import BLEND_K, blend_rerank


def test_weight_zero_keeps_retrieval_order_and_large_weight_follows_scores() -> None:
    prior = [10, 11, 12, 13]
    scores = [0.1, 0.9, 0.5, 0.7]
    assert blend_rerank(prior, scores, weight=0.0) == prior
    assert blend_rerank(prior, scores, weight=1000.0) == [11, 13, 12, 10]


def test_blend_by_hand() -> None:
    # prior ranks 1, 2, 3; score ranks: c=1, a=2, b=3 -> a: 1/21+1/22, b: 1/22+1/23, c: 1/23+1/21
    blended = blend_rerank(["a", "b", "c"], [0.5, 0.1, 0.9], weight=1.0)
    assert BLEND_K == 20
    assert blended == ["a", "c", "b"]


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="2 candidates but 1 scores"):
        blend_rerank([1, 2], [0.3])


def test_rerank_text_puts_title_and_headings_first() -> None:
    assert rerank_text("Pods", ["Lifecycle"], "Pods are ephemeral.") == (
        "Pods > Lifecycle\nPods are ephemeral."
    )
    assert rerank_text("", [], "bare") == "bare"
