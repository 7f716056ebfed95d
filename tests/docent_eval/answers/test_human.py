"""Human scores matched to the evaluated questions, with the raters' agreement."""

from __future__ import annotations

import pytest

from docent_eval.answers.human import human_scores


def rating(rater: str, h: int, a: int, s: int) -> dict:
    return {"rater": rater, "helpfulness": h, "accuracy": a, "safety": s, "comment": ""}


EXPORT = {
    "items": [
        {
            "id": "i1",
            "question_id": "q1",
            "ratings": [rating("ann", 4, 5, 5), rating("bo", 4, 5, 5)],
        },
        {
            "id": "i2",
            "question_id": "q2",
            "ratings": [rating("ann", 2, 1, 5), rating("bo", 2, 1, 5)],
        },
        {"id": "i3", "question_id": "other", "ratings": [rating("ann", 1, 1, 1)]},
        {"id": "i4", "question_id": None, "ratings": [rating("bo", 5, 5, 5)]},
    ]
}


def test_only_the_evaluated_questions_count() -> None:
    scores = human_scores(EXPORT, {"q1", "q2"})
    assert scores is not None
    assert (scores["items"], scores["ratings"], scores["raters"]) == (2, 4, 2)
    assert scores["means"] == {"helpfulness": 3.0, "accuracy": 3.0, "safety": 5.0}
    # perfect agreement on varied values: alpha 1; safety never varies: undefined
    assert scores["agreement"]["helpfulness"] == pytest.approx(1.0)
    assert scores["agreement"]["safety"] is None


def test_sampled_conversations_match_by_question_text() -> None:
    export = {"items": [{"id": "c1", "question_id": None, "question": "What is a Pod?",
                         "ratings": [rating("ann", 5, 4, 5)]}]}  # fmt: skip
    scores = human_scores(export, {"q1"}, frozenset({"What is a Pod?"}))
    assert scores is not None and scores["means"]["accuracy"] == 4.0
    assert scores["agreement"]["accuracy"] is None  # one rater: nothing to agree on


def test_nothing_rated_is_none() -> None:
    assert human_scores(EXPORT, {"q9"}) is None
    assert human_scores({}, {"q1"}) is None
