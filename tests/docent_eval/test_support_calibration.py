"""The support thresholds are reproducible from the labelled set, and hold on the held-out one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from docent_eval.support_calibration import (
    Labelled,
    choose,
    load_labelled,
    minilm,
    predict,
    score,
    signals,
)
from docentlib.support import DEFAULT_THRESHOLDS, SupportThresholds
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "support"


@pytest.fixture(scope="module")
def embed():
    return minilm()


def _truth(items: list[Labelled]) -> np.ndarray:
    return np.array([i.supported for i in items])


def test_the_labelled_sets_are_well_formed_and_disjoint() -> None:
    passages = [json.loads(line) for line in (DATA / "passages.jsonl").read_text().splitlines()]
    calibration = load_labelled(DATA / "calibration.jsonl", DATA / "passages.jsonl")
    heldout = load_labelled(DATA / "heldout.jsonl", DATA / "passages.jsonl")
    assert len(calibration) >= 150 and len(heldout) >= 50
    for items in (calibration, heldout):
        assert len({i.id for i in items}) == len(items)
        assert 0.3 < _truth(items).mean() < 0.7, "both labels, roughly balanced"
    assert not {i.passage for i in calibration} & {i.passage for i in heldout}
    assert not {i.sentence for i in calibration} & {i.sentence for i in heldout}
    assert all(p["source_path"].endswith(".md") for p in passages)


def test_the_default_thresholds_are_the_ones_the_calibration_chooses(embed) -> None:
    items = load_labelled(DATA / "calibration.jsonl", DATA / "passages.jsonl")
    values = signals(items, embed)
    chosen = choose(values, _truth(items))
    assert chosen == DEFAULT_THRESHOLDS
    both = score(predict(values, chosen, semantic=True), _truth(items))
    alone = score(predict(values, chosen, semantic=False), _truth(items))
    print(f"\ncalibration: with embeddings {both.line()}\n             lexical only {alone.line()}")
    assert both.f1 > alone.f1, "embeddings must earn their cost"


def test_the_thresholds_hold_on_the_held_out_set(embed) -> None:
    items = load_labelled(DATA / "heldout.jsonl", DATA / "passages.jsonl")
    values = signals(items, embed)
    both = score(predict(values, DEFAULT_THRESHOLDS, semantic=True), _truth(items))
    print(f"\nheld out: {both.line()}")
    assert both.precision >= 0.7 and both.recall >= 0.8


def test_score_against_hand_counts() -> None:
    predicted = np.array([True, True, False, False, True])
    truth = np.array([True, False, True, False, True])
    s = score(predicted, truth)  # tp 2, fp 1, fn 1, tn 1
    assert (s.precision, s.recall, s.f1, s.accuracy) == pytest.approx((2 / 3, 2 / 3, 2 / 3, 0.6))


def test_choose_picks_the_best_f1_and_the_stricter_of_ties() -> None:
    # (lexical, semantic, numbers match): supported items have lexical >= 0.6 or cosine >= 0.8
    values = np.array([[0.6, 0.1, 1], [0.2, 0.85, 1], [0.3, 0.5, 1], [0.9, 0.9, 0], [0.45, 0.6, 1]])
    truth = np.array([True, True, False, False, False])
    chosen = choose(values, truth)
    assert chosen == SupportThresholds(lexical=0.6, semantic=0.85, lexical_only=0.6)
