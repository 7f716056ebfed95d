"""The blend calibration grid's extra factor (rank agreement), by hand."""

from __future__ import annotations

import pytest

from bench.rerank_blend import agreeing_weight, rank_agreement, score
from docentlib.ranking import HIGH, LOW, blend_rerank, effective_weight, rerank_confidence


def test_agreement_is_spearman_with_the_prior_order() -> None:
    assert rank_agreement([0.9, 0.5, 0.1]) == pytest.approx(1.0)
    assert rank_agreement([0.1, 0.5, 0.9]) == pytest.approx(-1.0)
    # one swap of neighbours among 4: d^2 = 2, 1 - 6*2/(4*15) = 0.8
    assert rank_agreement([0.5, 0.9, 0.3, 0.1]) == pytest.approx(0.8)
    assert rank_agreement([0.2, 0.1]) == 1.0  # too few to judge: no damping


def test_a_reranker_unrelated_to_retrieval_is_trusted_less() -> None:
    standout_reversed = [0.01 * i for i in range(15)] + [5.0]  # confident, order reversed
    assert rerank_confidence(standout_reversed) > HIGH
    assert effective_weight(standout_reversed, 1.0) == 1.0
    assert agreeing_weight(standout_reversed, 1.0, LOW, HIGH, 0.0, 0.5) == 0.0
    prior = list(range(16))
    assert blend_rerank(prior, standout_reversed, 0.0, adaptive=False) == prior


def test_grid_scores_the_agreement_setting_on_a_cache() -> None:
    """One query whose relevant document (retrieval's last) the reranker puts first while
    reversing the rest: the confidence blend lifts it into the top 10, full agreement damping
    keeps retrieval's order (nDCG@10 0)."""
    keys = [f"d{i}" for i in range(16)]
    cache = {
        "qrels": {"q": {"d15": 1}},
        "rows": [{"qid": "q", "keys": keys, "scores": [0.01 * i for i in range(15)] + [5.0]}],
    }
    assert score(cache, 1.0, True) > 0.5
    damped = score(cache, 1.0, True, low=LOW, high=HIGH, agree_low=0.0, agree_high=0.5)
    assert damped == score(cache, 0.0, False) == 0.0
