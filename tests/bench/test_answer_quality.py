"""The answer-quality benchmark's judgements, by hand (the live run is in docs/safety.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.answer_quality import finished_rows, load_questions, repeated, summarise, token_f1


def test_a_repeated_sentence_or_a_loop_counts_as_repeated() -> None:
    assert not repeated(["Use kubectl rollout undo.", "Add --to-revision to pick one."])
    assert repeated(["Run kubectl rollout undo [1].", "Run kubectl rollout undo."])
    assert repeated(["pods run on nodes and " * 3])
    assert not repeated(["Yes.", "Yes."])  # too short to call a repetition


def test_token_f1_ignores_citations_and_case() -> None:
    assert token_f1("Run kubectl rollout undo [1].", "run KUBECTL rollout undo") == 1.0
    assert token_f1("nothing shared", "kubectl rollout undo") == 0.0
    assert token_f1("kubectl rollout", "kubectl rollout undo deployment") == pytest.approx(
        2 * 1.0 * 0.5 / 1.5
    )


def test_every_question_has_its_reference() -> None:
    questions = load_questions()
    assert len(questions) == 108
    assert all(q["reference"] and q["must_contain"] for q in questions)


def test_summary_counts_answers_not_refusals() -> None:
    rows = [
        {
            "refused": False,
            "repeated": True,
            "sentences": 4,
            "unsupported": 1,
            "fallback": False,
            "cited": True,
            "must_contain": 1.0,
            "f1": 0.5,
            "seconds": 2.0,
        },
        {
            "refused": True,
            "repeated": False,
            "sentences": 0,
            "unsupported": 0,
            "fallback": False,
            "cited": False,
            "must_contain": 0.0,
            "f1": 0.0,
            "seconds": 1.0,
        },
    ]
    summary = summarise(rows)
    assert summary["refused"] == 1 and summary["repeated_share"] == 1.0
    assert summary["unsupported_share"] == 0.25 and summary["f1"] == 0.5


def test_a_cut_off_run_resumes_from_its_rows_file(tmp_path: Path) -> None:
    """Answers are written as they finish; on --resume the finished ones are kept, failed ones
    and a half-written last line are asked again."""
    rows = tmp_path / "after.rows.jsonl"
    lines = ['{"_id": "q1", "sentences": 2}', '{"_id": "q2", "error": "HTTP 503"}', '{"_id": "q']
    rows.write_text("\n".join(lines))
    assert finished_rows(rows) == [{"_id": "q1", "sentences": 2}]
    assert finished_rows(tmp_path / "missing.jsonl") == []
