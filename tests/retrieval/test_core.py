from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.core import RetrievalCore
from services.retrieval.docstore import DocStore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.types import DocumentInfo, SearchMode
from tests.retrieval.helpers import DIM, NASTY_QUERIES, make_doc, unit

DOCS = [
    make_doc(
        "deploy", ["kubectl rollout undo rolls back a Deployment", "scaling replicas"], seed=0
    ),
    make_doc("pods", ["pods restart on failure", "init containers run first"], seed=10),
    make_doc("svc", ["a Service exposes pods", "ClusterIP is the default type"], seed=20),
]


@pytest.fixture
def settings(tmp_path: Path) -> RetrievalSettings:
    return RetrievalSettings(data_dir=tmp_path / "retrieval", dim=DIM, fetch_depth=10, rrf_k=60)


@pytest.fixture
def core(settings: RetrievalSettings):
    core = RetrievalCore(settings)
    core.upsert(DOCS)
    yield core
    core.close()


def _chunk_ids(hits) -> list[str]:
    return [h.chunk_id for h in hits]


def test_upsert_counts_and_stats(settings: RetrievalSettings) -> None:
    core = RetrievalCore(settings)
    try:
        assert core.stats()["generation"] == 0
        assert core.upsert(DOCS) == (3, 6)
        assert core.upsert([]) == (0, 0)
        assert core.stats() == {
            "documents": 3, "chunks": 6, "generation": 1, "dense_vectors": 6, "sparse_entries": 6,
        }  # fmt: skip
    finally:
        core.close()


def test_sparse_search(core: RetrievalCore) -> None:
    hits = core.search("rollout undo", None, 3, SearchMode.SPARSE)
    assert _chunk_ids(hits) == ["deploy#0"]
    hit = hits[0]
    assert (hit.doc_id, hit.title, hit.source_path) == (
        "deploy",
        "Title of deploy",
        "docs/deploy.md",
    )
    assert hit.heading_path == ("Title of deploy", "Section 0")
    assert hit.retriever_ranks == {"sparse": 1} and hit.score == hit.retriever_scores["sparse"]


def test_dense_search_finds_the_nearest_vector(core: RetrievalCore) -> None:
    hits = core.search("", unit(11), 2, "dense")
    assert hits[0].chunk_id == "pods#1"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].retriever_ranks == {"dense": 1} and len(hits) == 2


def test_hybrid_fuses_with_per_retriever_scores_and_ranks(core: RetrievalCore) -> None:
    hits = core.search("pods", unit(20), 6, SearchMode.HYBRID)
    assert hits[0].chunk_id == "svc#0"  # dense rank 1 and a sparse match
    for hit in hits:
        assert set(hit.retriever_ranks) <= {"dense", "sparse"}
        assert set(hit.retriever_scores) == set(hit.retriever_ranks)
        expected = sum(1.0 / (60 + rank) for rank in hit.retriever_ranks.values())
        assert hit.score == pytest.approx(expected)
    assert hits[0].retriever_ranks["dense"] == 1
    assert hits[0].retriever_scores["dense"] == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_weights_come_from_settings(tmp_path: Path) -> None:
    settings = RetrievalSettings(data_dir=tmp_path, dim=DIM, dense_weight=0.0, rrf_k=1)
    core = RetrievalCore(settings)
    try:
        core.upsert(DOCS)
        hits = core.search("ClusterIP", unit(0), 3, "hybrid")
        assert hits[0].chunk_id == "svc#1" and hits[0].score == pytest.approx(1 / 2)
    finally:
        core.close()


def test_hybrid_uses_what_it_has(core: RetrievalCore) -> None:
    text_only = core.search("replicas", None, 3, "hybrid")
    assert _chunk_ids(text_only) == ["deploy#1"] and set(text_only[0].retriever_ranks) == {"sparse"}
    vector_only = core.search("  ", unit(1), 3, "hybrid")
    assert vector_only[0].chunk_id == "deploy#1"
    assert all(set(h.retriever_ranks) == {"dense"} for h in vector_only)


def test_upsert_replaces_chunks(core: RetrievalCore) -> None:
    core.upsert([make_doc("deploy", ["brand new canary text"], seed=50, content_hash="v2")])
    assert core.search("rollout", None, 5, "sparse") == []
    assert _chunk_ids(core.search("canary", None, 5, "sparse")) == ["deploy#0"]
    assert "deploy#1" not in _chunk_ids(core.search("", unit(1), 6, "dense"))
    assert core.list_documents(["deploy"]) == [
        DocumentInfo("deploy", "Title of deploy", "docs/deploy.md", "v2", 1)
    ]
    assert core.stats()["chunks"] == 5


def test_delete_by_doc_id_and_source_path(core: RetrievalCore) -> None:
    assert core.delete(["deploy"], []) == (1, 2)
    assert core.delete([], ["docs/svc.md"]) == (1, 2)
    assert core.delete(["deploy"], ["docs/nope.md"]) == (0, 0)
    assert [d.doc_id for d in core.list_documents()] == ["pods"]
    for mode in SearchMode:
        hits = core.search("rollout pods service", unit(0), 10, mode)
        assert {h.doc_id for h in hits} == {"pods"}
    assert core.stats()["dense_vectors"] == core.stats()["sparse_entries"] == 2


def test_persists_across_reopen(core: RetrievalCore, settings: RetrievalSettings) -> None:
    before = core.search("pods", unit(20), 5, "hybrid")
    core.close()
    reopened = RetrievalCore(settings)
    try:
        assert reopened.search("pods", unit(20), 5, "hybrid") == before
        assert reopened.stats()["generation"] == 1
    finally:
        reopened.close()


def test_rebuilds_dense_index_when_its_file_is_deleted(core, settings) -> None:
    core.close()
    (settings.resolved_data_dir() / "dense.faiss").unlink()
    reopened = RetrievalCore(settings)
    try:
        assert reopened.stats()["dense_vectors"] == 6
        assert reopened.search("", unit(21), 1, "dense")[0].chunk_id == "svc#1"
    finally:
        reopened.close()


def test_rebuilds_dense_index_when_its_generation_is_stale(core, settings, tmp_path) -> None:
    dense = settings.resolved_data_dir() / "dense.faiss"
    shutil.copy(dense, tmp_path / "old.faiss")
    core.upsert([make_doc("late", ["added later"], seed=99)])
    core.close()
    shutil.copy(tmp_path / "old.faiss", dense)  # as if the crash hit before the save
    reopened = RetrievalCore(settings)
    try:
        assert reopened.search("", unit(99), 1, "dense")[0].chunk_id == "late#0"
    finally:
        reopened.close()


def test_rebuilds_both_after_a_crash_between_docstore_and_indexes(core, settings) -> None:
    core.close()
    store = DocStore(settings.resolved_data_dir() / "docstore.sqlite3")
    store.upsert([make_doc("late", ["zeppelin text"], seed=99)])  # indexes never told
    store.delete(["pods"], [])
    store.close()
    reopened = RetrievalCore(settings)
    try:
        assert _chunk_ids(reopened.search("zeppelin", None, 3, "sparse")) == ["late#0"]
        assert reopened.search("", unit(99), 1, "dense")[0].chunk_id == "late#0"
        assert reopened.search("pods restart", None, 5, "sparse")[0].doc_id != "pods"
        assert reopened.stats()["sparse_entries"] == reopened.stats()["dense_vectors"] == 5
    finally:
        reopened.close()


def test_rebuilds_sparse_index_when_its_generation_is_stale(core, settings) -> None:
    core.close()
    sidecar = settings.resolved_data_dir() / "sparse.generation.json"
    sidecar.write_text(json.dumps({"generation": 0, "schema_version": 1}))
    reopened = RetrievalCore(settings)
    try:
        assert json.loads(sidecar.read_text())["generation"] == 1
        assert _chunk_ids(reopened.search("ClusterIP", None, 3, "sparse")) == ["svc#1"]
    finally:
        reopened.close()


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_nasty_queries_never_raise(core: RetrievalCore, query: str) -> None:
    assert isinstance(core.search(query, unit(0), 5, "hybrid"), list)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pods", None, 0, "sparse"), "k must be an integer from 1 to 100"),
        (("pods", None, 101, "sparse"), "k must be"),
        (("pods", None, 5, "fuzzy"), "choose one of sparse, dense, hybrid"),
        (("  ", None, 5, "sparse"), "sparse search needs a non-empty query"),
        (("pods", None, 5, "dense"), "dense search needs a query vector"),
        (("", None, 5, "hybrid"), "hybrid search needs"),
        (("pods", np.ones(DIM + 1), 5, "hybrid"), f"expected \\({DIM},\\)"),
    ],
)
def test_bad_search_arguments(core: RetrievalCore, args, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        core.search(*args)


def test_bad_upsert_writes_nothing(core: RetrievalCore) -> None:
    wrong_dim = make_doc("x", ["text"], dim=DIM + 1)
    with pytest.raises(InvalidInput, match=f"expected \\({DIM},\\)"):
        core.upsert([make_doc("ok", ["fine"]), wrong_dim])
    with pytest.raises(InvalidInput, match="more than once"):
        core.upsert([make_doc("a", ["1"]), make_doc("a", ["2"])])
    with pytest.raises(InvalidInput, match="at least one"):
        core.delete([], [])
    assert core.stats()["generation"] == 1


def test_closed_core_is_unavailable(core: RetrievalCore) -> None:
    core.close()
    core.close()
    with pytest.raises(Unavailable):
        core.search("pods", None, 1, "sparse")


def test_concurrent_searches_and_writes(core: RetrievalCore) -> None:
    def search(i: int) -> int:
        return len(core.search("pods service", unit(i % 30), 5, "hybrid"))

    def write(i: int) -> tuple[int, int]:
        return core.upsert([make_doc(f"extra{i}", ["pods extra text"], seed=100 + i)])

    with ThreadPoolExecutor(max_workers=4) as pool:
        searches = [pool.submit(search, i) for i in range(40)]
        writes = [pool.submit(write, i) for i in range(8)]
        assert all(f.result() > 0 for f in searches)
        assert all(f.result() == (1, 1) for f in writes)
    assert core.stats()["chunks"] == 14 and core.stats()["sparse_entries"] == 14


def test_wrong_dim_for_stored_vectors_is_unavailable_and_releases_locks(core, settings) -> None:
    core.close()
    with pytest.raises(Unavailable, match="DOCENT_RETRIEVAL_DIM"):
        RetrievalCore(settings.model_copy(update={"dim": DIM * 2}))
    reopened = RetrievalCore(settings)  # the failed start left no tantivy lock behind
    reopened.close()


def test_unused_vector_is_not_validated(core: RetrievalCore) -> None:
    hits = core.search("replicas", np.ones(3), 3, "sparse")
    assert _chunk_ids(hits) == ["deploy#1"]


def test_hybrid_search_degrades_to_dense_when_sparse_fails(tmp_path) -> None:
    from services.retrieval.core import RetrievalCore
    from services.retrieval.settings import RetrievalSettings
    from tests.retrieval.helpers import DIM, make_doc, unit

    core = RetrievalCore(RetrievalSettings(data_dir=tmp_path, dim=DIM))
    try:
        core.upsert([make_doc("a", ["alpha words"], seed=1), make_doc("b", ["beta"], seed=2)])

        def broken(query: str, k: int) -> list:
            raise ConnectionError("opensearch is down")

        core.store._sparse.search = broken  # the engine's outage, injected at its boundary
        hits, degraded = core.search_detailed("alpha", unit(1), 2, "hybrid")
        assert degraded == ["sparse"] and hits[0].doc_id == "a"
        assert set(hits[0].retriever_ranks) == {"dense"}
        with pytest.raises(ConnectionError):
            core.search("alpha", None, 2, "sparse")  # nothing to fall back to
    finally:
        core.close()
