"""Integrity of the hand-written Kubernetes support question set (tests/data/k8s-support).

The set is evaluation data for `docent eval retrieval`; a broken id or a qrel pointing at a
page that is not in the shared docs would silently lower every metric, so check it here.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SHARED

SET_DIR = Path(__file__).resolve().parents[1] / "data" / "k8s-support"
DOCS = SHARED / "data/kubernetes-docs/docs"
HEADER = ["query-id", "corpus-id", "score"]


def _queries() -> list[dict[str, str]]:
    lines = (SET_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _qrels() -> tuple[list[str], list[list[str]]]:
    with (SET_DIR / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[0], rows[1:]


def test_at_least_60_queries_with_unique_ids_and_text() -> None:
    queries = _queries()
    assert len(queries) >= 60
    ids = [q["_id"] for q in queries]
    assert len(ids) == len(set(ids))
    assert all(isinstance(q["text"], str) and q["text"].strip() for q in queries)
    assert len({q["text"].strip().lower() for q in queries}) == len(queries)


def test_qrels_header_and_well_formed_lines() -> None:
    header, rows = _qrels()
    assert header == HEADER
    assert rows
    for row in rows:
        assert len(row) == 3, row
        assert int(row[2]) >= 1, row
    pairs = [(r[0], r[1]) for r in rows]
    assert len(pairs) == len(set(pairs)), "duplicate (query, doc) pair"


def test_every_qrel_refers_to_a_known_query_and_every_query_is_judged() -> None:
    ids = {q["_id"] for q in _queries()}
    _, rows = _qrels()
    judged = {r[0] for r in rows}
    assert judged <= ids, f"qrels for unknown queries: {sorted(judged - ids)}"
    assert ids <= judged, f"queries without a relevant doc: {sorted(ids - judged)}"


def test_every_relevant_doc_exists_in_the_shared_docs() -> None:
    if not DOCS.is_dir():
        pytest.fail(f"shared Kubernetes docs not found at {DOCS}: clone ../shared beside the repo")
    _, rows = _qrels()
    missing = sorted({r[1] for r in rows if not (DOCS / r[1]).is_file()})
    assert not missing, f"qrels point at files that do not exist: {missing}"


def test_no_page_is_relevant_to_more_than_three_queries() -> None:
    """The set is meant to cover many pages, not to repeat a few."""
    _, rows = _qrels()
    counts = Counter(r[1] for r in rows)
    assert max(counts.values()) <= 3, counts.most_common(3)


def _references() -> list[dict]:
    lines = (SET_DIR / "references.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_references_cover_every_query_in_order_with_valid_must_contain_terms() -> None:
    """references.jsonl: one reference answer per query, same order, and each must_contain
    term (1 to 3 of them) appears, case-insensitively, in its own reference."""
    query_ids = [q["_id"] for q in _queries()]
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
