from __future__ import annotations

import json
from pathlib import Path

import pytest

from docentlib.bm25 import query_terms
from services.retrieval.sparse.tantivy_index import TantivyIndex
from tests.retrieval.helpers import NASTY_QUERIES

ENTRIES = [
    (1, "Use kubectl rollout undo to roll back a Deployment.", "Deployments", ("Rolling back",)),
    (2, "Pods restart according to their restartPolicy.", "Pods", ("Lifecycle",)),
    (3, "A Service exposes pods on a stable address.", "Services", ("Overview",)),
    (4, "Nothing about the topic at all.", "Misc", ()),
]


@pytest.fixture
def index(tmp_path: Path):
    index = TantivyIndex(tmp_path / "sparse")
    index.upsert(list(ENTRIES))
    index.commit(1)
    yield index
    index.close()


def _ids(hits: list[tuple[int, float]]) -> list[int]:
    return [id_ for id_, _ in hits]


def test_bm25_finds_the_matching_chunk(index: TantivyIndex) -> None:
    assert len(index) == 4
    hits = index.search("kubectl rollout", 10)
    assert _ids(hits) == [1]
    assert hits[0][1] > 0


def test_stemming_matches_word_forms(index: TantivyIndex) -> None:
    assert _ids(index.search("restarting", 10)) == [2]


def test_title_and_headings_are_searched_and_boosted(index: TantivyIndex) -> None:
    assert _ids(index.search("lifecycle", 10)) == [2]
    hits = index.search("pods", 10)  # title "Pods" beats a body-only mention
    assert _ids(hits)[0] == 2 and 3 in _ids(hits)


def test_k_limits_results(index: TantivyIndex) -> None:
    assert len(index.search("pods service deployment", 1)) == 1
    assert index.search("pods", 0) == []


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_nasty_queries_never_raise(index: TantivyIndex, query: str) -> None:
    hits = index.search(query, 10)
    assert isinstance(hits, list)


def test_query_syntax_has_no_effect(index: TantivyIndex) -> None:
    assert _ids(index.search("What's `kubectl rollout undo`?", 10)) == [1]
    assert _ids(index.search('"unterminated kubectl', 10)) == [1]
    assert index.search("*", 10) == []  # not a match-all
    assert _ids(index.search("NOT pods", 10)) == _ids(index.search("not pods", 10))


@pytest.mark.parametrize("query", ["", "   ", "?!()", "::"])
def test_empty_queries_return_nothing(index: TantivyIndex, query: str) -> None:
    assert index.search(query, 10) == []


def test_query_terms_are_words_lowercased_and_capped() -> None:
    assert query_terms("What's `kubectl`? KUBECTL a_b") == ["what", "s", "kubectl", "b"]


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert query_terms("the rollout of a Deployment") == ["rollout", "deployment"]
    assert query_terms("to be or not to be") == ["to", "be", "or", "not"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(500)))) == 64


def test_upsert_replaces_same_id_and_remove_deletes(index: TantivyIndex) -> None:
    index.upsert([(1, "completely different words", "Other", ())])
    index.remove([3, 99])
    assert _ids(index.search("kubectl", 10)) == [1]  # not committed yet: old state visible
    index.commit(2)
    assert len(index) == 3
    assert index.search("kubectl", 10) == []
    assert _ids(index.search("different", 10)) == [1]
    assert 3 not in _ids(index.search("pods", 10))


def test_generation_persists_and_uncommitted_work_is_lost(tmp_path: Path) -> None:
    directory = tmp_path / "sparse"
    index = TantivyIndex(directory)
    assert index.generation() is None and len(index) == 0
    index.upsert(list(ENTRIES))
    index.commit(7)
    index.upsert([(10, "uncommitted words", "x", ())])
    index.close()
    reopened = TantivyIndex(directory)
    try:
        assert reopened.generation() == 7
        assert len(reopened) == 4
        assert reopened.search("uncommitted", 10) == []
        assert _ids(reopened.search("kubectl", 10)) == [1]
    finally:
        reopened.close()


def test_clear_takes_effect_at_commit(index: TantivyIndex) -> None:
    index.upsert([(20, "pending", "p", ())])
    index.clear()  # also drops the pending add
    index.commit(5)
    assert len(index) == 0 and index.generation() == 5


def test_schema_version_mismatch_wipes_the_index(tmp_path: Path) -> None:
    directory = tmp_path / "sparse"
    index = TantivyIndex(directory)
    index.upsert(list(ENTRIES))
    index.commit(3)
    index.close()
    sidecar = index.sidecar
    sidecar.write_text(json.dumps({"generation": 3, "schema_version": -1}))
    reopened = TantivyIndex(directory)
    try:
        assert reopened.generation() is None and len(reopened) == 0
    finally:
        reopened.close()


def test_a_directory_has_one_writer(index: TantivyIndex) -> None:
    with pytest.raises(ValueError, match="lock"):
        TantivyIndex(index.directory)
