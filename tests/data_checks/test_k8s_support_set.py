"""Integrity of the hand-written Kubernetes support question set (tests/data/k8s-support).

The set is evaluation data for `docent eval retrieval`; a broken id or a qrel pointing at a
page that is not in the shared docs would silently lower every metric, so check it here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.data_checks.query_set import QuerySet

SET_DIR = Path(__file__).resolve().parents[1] / "data" / "k8s-support"
SET = QuerySet(SET_DIR)
DOCS = SHARED / "data/kubernetes-docs/docs"


def test_queries_and_qrels_are_well_formed() -> None:
    SET.check_queries(60)
    SET.check_qrels()


def test_every_relevant_doc_exists_in_the_shared_docs() -> None:
    if not DOCS.is_dir():
        pytest.fail(f"shared Kubernetes docs not found at {DOCS}: clone ../shared beside the repo")
    missing = [doc for doc in SET.judged_docs() if not (DOCS / doc).is_file()]
    assert not missing, f"qrels point at files that do not exist: {missing}"


def test_no_page_is_relevant_to_more_than_three_queries() -> None:
    SET.check_spread(3)


def _references() -> list[dict]:
    lines = (SET_DIR / "references.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_references_cover_every_query_in_order_with_valid_must_contain_terms() -> None:
    """references.jsonl: one reference answer per query, same order, and each must_contain
    term (1 to 3 of them) appears, case-insensitively, in its own reference."""
    query_ids = [q["_id"] for q in SET.queries()]
    refs = _references()
    assert [r["_id"] for r in refs] == query_ids, "references.jsonl ids differ from queries.jsonl"
    for ref in refs:
        text = ref["reference"]
        assert isinstance(text, str) and text.strip(), ref["_id"]
        terms = ref["must_contain"]
        assert isinstance(terms, list) and 1 <= len(terms) <= 3, ref["_id"]
        for term in terms:
            assert isinstance(term, str) and term.strip(), (ref["_id"], term)
            assert term.lower() in text.lower(), (ref["_id"], term)
