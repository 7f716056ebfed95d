from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from docentlib.errors import InvalidInput
from services.retrieval.docstore import DocStore
from services.retrieval.types import DocumentInfo
from tests.retrieval.helpers import make_doc, unit


@pytest.fixture
def store(tmp_path: Path):
    store = DocStore(tmp_path / "docs.sqlite3")
    yield store
    store.close()


def test_fresh_store_is_empty_at_generation_zero(store: DocStore) -> None:
    assert store.generation() == 0
    assert store.counts() == (0, 0)
    assert store.list_documents() == []


def test_upsert_stores_documents_and_bumps_generation(store: DocStore) -> None:
    result = store.upsert([make_doc("a", ["one", "two"]), make_doc("b", ["three"], seed=5)])
    assert result.generation == 1 == store.generation()
    assert result.documents == 2 and result.removed_ids == []
    assert [e.text for e in result.added] == ["one", "two", "three"]
    assert store.counts() == (2, 3)
    assert store.list_documents() == [
        DocumentInfo("a", "Title of a", "docs/a.md", "hash", 2),
        DocumentInfo("b", "Title of b", "docs/b.md", "hash", 1),
    ]
    chunks = store.get_chunks([e.id for e in result.added])
    first = chunks[result.added[0].id]
    assert (first.chunk_id, first.doc_id, first.title) == ("a#0", "a", "Title of a")
    assert first.heading_path == ("Title of a", "Section 0")
    assert first.source_path == "docs/a.md" and first.text == "one"


def test_upsert_replaces_all_chunks_of_a_document(store: DocStore) -> None:
    old = store.upsert([make_doc("a", ["one", "two", "three"])])
    new = store.upsert([make_doc("a", ["only"], title="Renamed", content_hash="h2")])
    old_ids = [e.id for e in old.added]
    assert sorted(new.removed_ids) == old_ids
    assert min(e.id for e in new.added) > max(old_ids)  # ids are never reused
    assert store.get_chunks(old_ids) == {}
    assert store.list_documents() == [DocumentInfo("a", "Renamed", "docs/a.md", "h2", 1)]
    assert store.generation() == 2


def test_delete_by_doc_id_and_by_source_path(store: DocStore) -> None:
    added = store.upsert(
        [make_doc("a", ["1", "2"]), make_doc("b", ["3"]), make_doc("c", ["4", "5", "6"])]
    ).added
    by_id = store.delete(["a"], [])
    assert (by_id.documents, len(by_id.removed_ids), by_id.generation) == (1, 2, 2)
    by_path = store.delete([], ["docs/c.md"])
    assert (by_path.documents, len(by_path.removed_ids)) == (1, 3)
    assert [d.doc_id for d in store.list_documents()] == ["b"]
    assert list(store.get_chunks([e.id for e in added])) == [added[2].id]


def test_delete_by_both_counts_each_document_once(store: DocStore) -> None:
    store.upsert([make_doc("a", ["1"]), make_doc("b", ["2"])])
    result = store.delete(["a", "a", "b"], ["docs/a.md"])
    assert result.documents == 2 and len(result.removed_ids) == 2
    assert store.counts() == (0, 0)


def test_delete_of_nothing_writes_nothing(store: DocStore) -> None:
    store.upsert([make_doc("a", ["1"])])
    result = store.delete(["nope"], ["docs/nope.md"])
    assert (result.documents, result.removed_ids, result.generation) == (0, [], 1)
    assert store.generation() == 1


def test_chunk_id_of_another_document_is_rejected_atomically(store: DocStore) -> None:
    store.upsert([make_doc("a", ["one"])])
    thief = make_doc("b", ["x"])
    thief = replace(thief, chunks=(replace(thief.chunks[0], chunk_id="a#0"),))
    with pytest.raises(InvalidInput, match="chunk_id"):
        store.upsert([make_doc("c", ["fine"]), thief])
    assert store.generation() == 1
    assert [d.doc_id for d in store.list_documents()] == ["a"]


def test_list_documents_filter(store: DocStore) -> None:
    store.upsert([make_doc("b", ["1"]), make_doc("a", ["2"]), make_doc("c", [])])
    assert [d.doc_id for d in store.list_documents(["c", "a", "missing"])] == ["a", "c"]
    assert store.list_documents([]) == []
    assert store.list_documents(["c"])[0].chunk_count == 0


def test_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "docs.sqlite3"
    store = DocStore(path)
    store.upsert([make_doc("a", ["one", "two"], seed=7)])
    store.close()
    store = DocStore(path)
    try:
        assert store.generation() == 1
        assert store.counts() == (1, 2)
        ((ids, vectors),) = list(store.iter_vectors())
        assert ids.dtype == np.int64 and vectors.dtype == np.float32
        np.testing.assert_array_equal(vectors, np.stack([unit(7), unit(8)]))
    finally:
        store.close()


def test_iterators_cover_everything_in_id_order(store: DocStore) -> None:
    docs = [make_doc(f"d{i}", [f"text {i} {j}" for j in range(3)], seed=i * 10) for i in range(3)]
    added = store.upsert(docs).added
    batches = list(store.iter_entries(batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 2, 2, 1]
    entries = [e for b in batches for e in b]
    assert [e.id for e in entries] == [e.id for e in added]
    assert entries[4].text == "text 1 1" and entries[4].title == "Title of d1"
    np.testing.assert_array_equal(entries[4].vector, unit(11))
    vector_batches = list(store.iter_vectors(batch_size=4))
    assert np.concatenate([ids for ids, _ in vector_batches]).tolist() == [e.id for e in added]


def test_reads_from_other_threads_see_committed_writes(store: DocStore) -> None:
    store.upsert([make_doc("a", ["1"])])
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(store.counts()[1]))
    worker.start()
    worker.join()
    assert seen == [1]
