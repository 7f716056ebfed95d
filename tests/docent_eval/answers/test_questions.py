"""The questions file: every mistake named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from docent_eval.answers.questions import load_questions
from docentlib.errors import InvalidInput


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_loads_optional_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"_id": "a", "text": " What? ", "reference": "R", "must_contain": ["x"]}',
        "",
        '{"_id": "b", "text": "Pizza?", "expect_refusal": true}',
    )
    a, b = load_questions(path)
    assert (a.id, a.text, a.must_contain, a.expect_refusal) == ("a", "What?", ["x"], False)
    assert b.expect_refusal and b.reference == ""
    assert [q.id for q in load_questions(path, limit=1)] == ["a"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "q.jsonl:1: not JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"text": "x"}', "'_id' must be a non-empty string"),
        ('{"_id": "a", "text": " "}', "'text' must be a non-empty string"),
        ('{"_id": "a", "text": "x", "must_contain": "rollout"}', "'must_contain' must be a list"),
        ('{"_id": "a", "text": "x", "expect_refusal": "yes"}', "'expect_refusal' must be true"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_questions(write(tmp_path, line))


def test_duplicate_ids_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="duplicate _id 'a'"):
        load_questions(write(tmp_path, '{"_id": "a", "text": "x"}', '{"_id": "a", "text": "y"}'))
    with pytest.raises(InvalidInput, match="not found"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(InvalidInput, match="holds no questions"):
        load_questions(write(tmp_path, ""))
