from __future__ import annotations

import math

import pytest

from docentlib.errors import InvalidInput
from services.retrieval.fusion import normalized_score_fusion, reciprocal_rank_fusion


def _scores(fused) -> dict:
    return {f.id: f.score for f in fused}


def test_hand_computed_scores_and_order() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"], "sparse": ["c", "a"]}, k=1)
    # a: 1/(1+1) + 1/(1+2); b: 1/(1+2); c: 1/(1+3) + 1/(1+1)
    assert [f.id for f in fused] == ["a", "c", "b"]
    assert _scores(fused) == pytest.approx({"a": 1 / 2 + 1 / 3, "b": 1 / 3, "c": 1 / 4 + 1 / 2})
    assert fused[0].ranks == {"dense": 1, "sparse": 2}
    assert fused[2].ranks == {"dense": 2}


def test_default_k_is_60() -> None:
    fused = reciprocal_rank_fusion({"x": ["a"], "y": ["b", "a"]})
    assert _scores(fused) == pytest.approx({"a": 1 / 61 + 1 / 62, "b": 1 / 61})


def test_weights_change_the_order() -> None:
    rankings = {"dense": ["a", "b", "c"], "sparse": ["c", "b", "a"]}
    fused = reciprocal_rank_fusion(rankings, k=0, weights={"dense": 2.0, "sparse": 0.5})
    # a: 2/1 + 0.5/3; b: 2/2 + 0.5/2; c: 2/3 + 0.5/1
    assert [f.id for f in fused] == ["a", "b", "c"]
    assert _scores(fused) == pytest.approx({"a": 2 + 0.5 / 3, "b": 1.25, "c": 2 / 3 + 0.5})
    fused = reciprocal_rank_fusion(rankings, k=0, weights={"dense": 0.5, "sparse": 2.0})
    assert [f.id for f in fused] == ["c", "b", "a"]


def test_zero_weight_keeps_ranks_but_adds_nothing() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a"], "sparse": ["b"]}, k=0, weights={"dense": 0})
    assert [f.id for f in fused] == ["b", "a"]
    assert fused[1].score == 0.0 and fused[1].ranks == {"dense": 1}


def test_missing_weight_defaults_to_one_and_unused_weights_are_ignored() -> None:
    fused = reciprocal_rank_fusion({"only": ["a"]}, k=0, weights={"other": 5.0})
    assert _scores(fused) == {"a": 1.0}


def test_duplicate_in_one_ranking_keeps_first_rank() -> None:
    fused = reciprocal_rank_fusion({"r": ["a", "b", "a"]}, k=0)
    assert _scores(fused) == pytest.approx({"a": 1.0, "b": 0.5})
    assert fused[0].ranks == {"r": 1}


def test_ties_break_on_best_rank_then_first_seen() -> None:
    fused = reciprocal_rank_fusion({"x": ["a", "b"], "y": ["b", "a"]}, k=60)
    assert fused[0].score == fused[1].score
    assert [f.id for f in fused] == ["a", "b"]


def test_empty_inputs() -> None:
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"dense": [], "sparse": []}) == []


def test_works_with_integer_ids() -> None:
    fused = reciprocal_rank_fusion({"dense": [3, 1], "sparse": [1]}, k=0)
    assert [f.id for f in fused] == [1, 3]


@pytest.mark.parametrize("k", [-1, 1.5, True, "60"])
def test_bad_k_is_rejected(k) -> None:
    with pytest.raises(InvalidInput, match="rrf k"):
        reciprocal_rank_fusion({"r": ["a"]}, k=k)


@pytest.mark.parametrize("weight", [-0.1, math.nan, math.inf])
def test_bad_weight_is_rejected(weight: float) -> None:
    with pytest.raises(InvalidInput, match="weight of 'dense'"):
        reciprocal_rank_fusion({"dense": ["a"]}, weights={"dense": weight})


def test_normalized_fusion_min_max_scales_then_weights() -> None:
    fused = normalized_score_fusion(
        {"dense": [("a", 0.9), ("b", 0.5), ("c", 0.1)], "sparse": [("c", 12.0), ("a", 2.0)]},
        weights={"dense": 1.0, "sparse": 0.5},
    )
    # dense: a=1, b=0.5, c=0; sparse: c=1, a=0 -> a=1.0, b=0.5, c=0.5 (tie: c has best rank 1)
    assert [(f.id, round(f.score, 6)) for f in fused] == [("a", 1.0), ("c", 0.5), ("b", 0.5)]
    assert fused[0].ranks == {"dense": 1, "sparse": 2}


def test_normalized_fusion_flat_lists_and_bad_weights() -> None:
    fused = normalized_score_fusion({"dense": [("x", 0.3), ("y", 0.3)], "sparse": []})
    assert [(f.id, f.score) for f in fused] == [("x", 1.0), ("y", 1.0)]
    with pytest.raises(InvalidInput, match="weight"):
        normalized_score_fusion({"dense": [("x", 1.0)]}, weights={"dense": -1.0})
