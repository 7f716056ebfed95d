"""Rows, summaries, win rates and cost: hand-computed."""

from __future__ import annotations

import pytest

from docent_eval.answers.cost import Price, cheaper_factor, summary_sentence
from docent_eval.answers.judge import pairwise_outcome, parse_choice, parse_score
from docent_eval.answers.metrics import SupportJudge
from docent_eval.answers.questions import Question
from docent_eval.answers.scoring import score_reply, summarise, win_rate
from docent_eval.answers.targets import Reply, declines

Q1 = Question("q1", "How do I roll back?", "Run kubectl rollout undo.", ["rollout undo"])
Q2 = Question("q2", "What is a Pod?", "The smallest deployable unit.", ["smallest", "unit"])
Q3 = Question("q3", "Best pizza?", expect_refusal=True)
PASSAGE = "Run kubectl rollout undo to go back to the previous revision."


def rows(system: str, replies: list[Reply]):
    judge = SupportJudge()
    return [score_reply(q, system, r, judge) for q, r in zip((Q1, Q2, Q3), replies, strict=True)]


DOCENT = [
    Reply("Run kubectl rollout undo to go back [1].", [PASSAGE], "model", False, 0.5, 2.0, 90, 10),
    Reply("A Pod is the smallest thing.", [PASSAGE], "attributed", False, 1.0, 4.0, 80, 20),
    Reply("I can't help with that.", [], "none", True, 0.2, 0.3, 0, 0),
]


def test_summary_by_hand() -> None:
    s = summarise(rows("docent", DOCENT), wall_s=6.3)
    assert s["correctness"] == 0.75  # q1 1/1, q2 1/2 ("smallest" only); q3 not answerable
    assert s["groundedness"] == 0.5  # 2 sentences answered with passages, 1 supported
    assert s["citation_precision"] == 1.0  # one pair, passage 1 supports it
    assert s["model_cited"] == 0.5  # of the 2 answers with passages
    assert s["refusal_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["refusal_accuracy"] == 1.0  # q1, q2 answered, q3 refused as expected
    assert s["ttft_p95_ms"] == pytest.approx(500 + 0.9 * 500)  # 200, 500, 1000: 95th = 950
    assert s["tokens_per_answer"] == pytest.approx(200 / 3, abs=1e-3)  # (100 + 100 + 0) / 3
    assert s["answers_per_hour"] == pytest.approx(3 / 6.3 * 3600, abs=0.1)
    assert s["errors"] == 0


def test_errors_are_counted_apart() -> None:
    failed = [Reply(error="HTTP 503"), DOCENT[1], DOCENT[2]]
    s = summarise(rows("docent", failed), wall_s=1.0)
    assert (s["errors"], s["questions"], s["correctness"]) == (1, 3, 0.5)


def test_win_rate_by_reference_scores_and_by_judge() -> None:
    mine = rows("docent", DOCENT)
    theirs = rows("reference", [
        Reply("Use the undo command."),  # q1: must 0, F1 > 0 but lower: loss for them
        Reply("A Pod is the smallest unit."),  # q2: must 1.0: they win
        Reply("Margherita."),  # q3: not refused: Docent wins
    ])  # fmt: skip
    by_ref = win_rate(mine, theirs, None)
    assert by_ref == {"win_rate": pytest.approx(2 / 3, abs=1e-4), "compared": 3, "by": "reference"}
    by_judge = win_rate(mine, theirs, {"q1": 1.0, "q2": 0.5, "q3": 0.0})
    assert by_judge["win_rate"] == 0.5 and by_judge["by"] == "judge"


def test_judge_parsing_and_position_swap() -> None:
    assert parse_score("Score: 4/5") == 4 and parse_score("excellent") is None
    assert parse_choice(" b.") == "B" and parse_choice("neither") is None
    assert pairwise_outcome("A", "B") == 1.0  # Docent preferred in both orders
    assert pairwise_outcome("B", "A") == 0.0
    assert pairwise_outcome("A", "A") == 0.5  # position bias: a tie
    assert pairwise_outcome(None, None) is None


def test_cost_per_thousand_answers_and_factor() -> None:
    docent = {"answers_per_hour": 600.0, "questions": 3, "correctness": 0.5}
    hosted = {"tokens_per_answer": 1500.0, "correctness": 0.6}
    assert Price(per_hour=0.30).per_1k_answers(docent) == 0.5  # 0.30 / 600 * 1000
    assert Price(per_mtok=2.0).per_1k_answers(hosted) == 3.0  # 2 * 1500 / 1e6 * 1000
    assert Price().per_1k_answers(docent) is None
    assert cheaper_factor(0.5, 3.0) == 6.0
    sentence = summary_sentence(docent, hosted, "the reference", 6.0)
    assert (
        sentence
        == "Docent scores 50.0% vs the reference's 60.0% at 6 x lower cost per 1,000 answers."
    )
    with pytest.raises(ValueError):
        Price(per_hour=1.0, per_mtok=1.0)


def test_declines_recognises_refusals_only_near_the_start() -> None:
    assert declines("I'm sorry, but I can't help with that.")
    assert declines("I don't know.")
    assert not declines("Run kubectl rollout undo.")
