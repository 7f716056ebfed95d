"""One contract, every store (``stores.KINDS``): what the retrieval core promises whichever
store holds the chunks. See ``stores.py`` for what each kind runs against."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from docentlib.errors import InvalidInput
from services.retrieval.core import RetrievalCore
from services.retrieval.types import DocumentInfo, SearchMode
from tests.retrieval.helpers import NASTY_QUERIES, make_doc, unit
from tests.retrieval.stores import KINDS, StoreUnderTest, store_fixture

DOCS = [
    make_doc(
        "deploy", ["kubectl rollout undo rolls back a Deployment", "scaling replicas"], seed=0
    ),
    make_doc("pods", ["pods restart on failure", "init containers run first"], seed=10),
    make_doc("svc", ["a Service exposes pods", "ClusterIP is the default type"], seed=20),
]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    yield from store_fixture(request, tmp_path)


@pytest.fixture
def core(store: StoreUnderTest) -> RetrievalCore:
    core = store.core()
    core.upsert(DOCS)
    return core


def ids(hits) -> list[str]:
    return [h.chunk_id for h in hits]


def test_an_empty_store_answers_every_search_with_nothing(store: StoreUnderTest) -> None:
    core = store.core()
    assert core.search("pods", None, 5, SearchMode.SPARSE) == []
    assert core.search("", unit(1), 5, SearchMode.DENSE) == []
    assert core.search_detailed("pods", unit(1), 5, SearchMode.HYBRID) == ([], [])
    assert core.list_documents() == [] and core.list_documents(["nope"]) == []
    assert core.delete(["nope"], ["docs/nope.md"]) == (0, 0)
    assert core.stats()["documents"] == core.stats()["chunks"] == 0


def test_upsert_counts_lists_and_stats(store: StoreUnderTest) -> None:
    core = store.core()
    assert core.upsert(DOCS) == (3, 6)
    assert core.upsert([]) == (0, 0)
    assert core.list_documents() == [
        DocumentInfo(d.doc_id, d.title, d.source_path, d.content_hash, len(d.chunks))
        for d in sorted(DOCS, key=lambda d: d.doc_id)
    ]
    assert [d.doc_id for d in core.list_documents(["svc", "nope", "deploy"])] == ["deploy", "svc"]
    assert (core.stats()["documents"], core.stats()["chunks"]) == (3, 6)


def test_sparse_search(core: RetrievalCore) -> None:
    hits = core.search("rollout undo", None, 3, SearchMode.SPARSE)
    assert ids(hits) == ["deploy#0"]
    hit = hits[0]
    assert (hit.doc_id, hit.title, hit.source_path) == (
        "deploy",
        "Title of deploy",
        "docs/deploy.md",
    )
    assert hit.heading_path == ("Title of deploy", "Section 0")
    assert hit.text == "kubectl rollout undo rolls back a Deployment"
    assert hit.retriever_ranks == {"sparse": 1} and hit.score == hit.retriever_scores["sparse"]
    assert ids(core.search("restarting", None, 3, SearchMode.SPARSE)) == ["pods#0"]  # stemmed
    assert ids(core.search("section", None, 10, SearchMode.SPARSE)) != []  # headings searched


def test_dense_search_finds_the_nearest_vector_by_cosine(core: RetrievalCore) -> None:
    hits = core.search("", unit(11), 2, "dense")
    assert ids(hits) == ["pods#1", "deploy#1"]  # unit(11) is pods#1's vector
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(float(unit(11) @ unit(1)), abs=1e-5)
    assert hits[0].retriever_ranks == {"dense": 1}


def test_hybrid_fuses_with_rrf(core: RetrievalCore) -> None:
    hits = core.search("pods", unit(20), 6, SearchMode.HYBRID)
    assert hits[0].chunk_id == "svc#0"  # dense rank 1 and a sparse match
    for hit in hits:
        expected = sum(1.0 / (60 + rank) for rank in hit.retriever_ranks.values())
        assert hit.score == pytest.approx(expected)
        assert set(hit.retriever_scores) == set(hit.retriever_ranks)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(hits) == 6 and len(set(ids(hits))) == 6


def test_upsert_replaces_every_chunk_of_a_document(core: RetrievalCore) -> None:
    core.upsert([make_doc("deploy", ["brand new canary text"], seed=50, content_hash="v2")])
    assert core.search("rollout", None, 5, "sparse") == []
    assert ids(core.search("canary", None, 5, "sparse")) == ["deploy#0"]
    assert "deploy#1" not in ids(core.search("", unit(1), 6, "dense"))
    assert core.search("", unit(50), 1, "dense")[0].text == "brand new canary text"
    assert core.list_documents(["deploy"]) == [
        DocumentInfo("deploy", "Title of deploy", "docs/deploy.md", "v2", 1)
    ]
    assert core.stats()["chunks"] == 5


def test_upserting_the_same_documents_again_changes_nothing(core: RetrievalCore) -> None:
    queries = [("pods", unit(20), "hybrid"), ("rollout", None, "sparse"), ("", unit(3), "dense")]
    before = [core.search(q, v, 6, m) for q, v, m in queries]
    assert core.upsert(DOCS) == (3, 6)
    assert core.upsert(DOCS) == (3, 6)
    assert [core.search(q, v, 6, m) for q, v, m in queries] == before
    everything = core.search("", unit(0), 20, "dense")
    assert len(everything) == 6 and len(set(ids(everything))) == 6  # no duplicate chunk
    assert (core.stats()["documents"], core.stats()["chunks"]) == (3, 6)


def test_delete_by_doc_id_and_by_source_path(core: RetrievalCore) -> None:
    assert core.delete(["deploy"], []) == (1, 2)
    assert core.delete([], ["docs/svc.md"]) == (1, 2)
    assert core.delete(["deploy"], ["docs/nope.md"]) == (0, 0)
    assert [d.doc_id for d in core.list_documents()] == ["pods"]
    for mode in SearchMode:
        hits = core.search("rollout pods service", unit(0), 10, mode)
        assert {h.doc_id for h in hits} == {"pods"}
    assert (core.stats()["documents"], core.stats()["chunks"]) == (1, 2)


def test_sparse_failing_degrades_hybrid_to_dense(store: StoreUnderTest, core) -> None:
    with store.broken_sparse(core):
        hits, degraded = core.search_detailed("pods", unit(11), 3, "hybrid")
        assert degraded == ["sparse"] and hits[0].chunk_id == "pods#1"
        assert all(set(h.retriever_ranks) == {"dense"} for h in hits)
        with pytest.raises(Exception):  # noqa: B017 - nothing to fall back to
            core.search("pods", None, 3, "sparse")
    assert core.search_detailed("pods", unit(11), 3, "hybrid")[1] == []


def test_a_chunk_id_of_another_document_is_refused(core: RetrievalCore) -> None:
    thief = make_doc("thief", ["stolen"])
    thief = replace(thief, chunks=(replace(thief.chunks[0], chunk_id="pods#0"),))
    with pytest.raises(InvalidInput, match=r"upsert rejected.*another document"):
        core.upsert([thief])
    assert ids(core.search("restart", None, 3, "sparse")) == ["pods#0"]
    assert [d.doc_id for d in core.list_documents()] == ["deploy", "pods", "svc"]


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_nasty_queries_never_raise(core: RetrievalCore, query: str) -> None:
    assert isinstance(core.search(query, unit(0), 5, "hybrid"), list)


def test_a_search_never_sees_a_mix_of_versions_or_nothing(store: StoreUnderTest) -> None:
    """One thread replaces a document (2, 4, 3, 5... chunks, each version's own words, all
    with "zeppelin") while another searches: every answer holds one whole version."""
    writer = store.core()
    reader = store.core() if store.kind.startswith("opensearch") else writer  # another replica
    sizes = [2, 4, 3, 5, 1, 4, 2, 3]

    def version(i: int):
        texts = [f"zeppelin v{i} part{j}" for j in range(sizes[i])]
        return make_doc("doc", texts, seed=100 * i, content_hash=f"v{i}")

    writer.upsert([version(0)])
    seen: list[tuple[str, ...]] = []
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            texts = tuple(h.text for h in reader.search("zeppelin", unit(0), 20, "hybrid"))
            seen.append(texts)
            versions = {t.split()[1] for t in texts}
            if len(versions) != 1:
                problems.append(f"mixed or empty: {texts}")
            elif len(texts) != sizes[int(next(iter(versions))[1:])]:
                problems.append(f"incomplete: {texts}")

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(1, len(sizes)):
            writer.upsert([version(i)])
    finally:
        done.set()
        thread.join()
    assert problems == [] and len(seen) > 0
    final = reader.search("zeppelin", None, 20, "sparse")
    assert sorted(h.text for h in final) == [f"zeppelin v7 part{j}" for j in range(3)]


def test_bad_input_writes_nothing(core: RetrievalCore) -> None:
    with pytest.raises(InvalidInput):
        core.upsert([make_doc("ok", ["fine"]), make_doc("bad", ["text"], dim=5)])
    with pytest.raises(InvalidInput, match="more than once"):
        core.upsert([make_doc("a", ["1"]), make_doc("a", ["2"])])
    assert [d.doc_id for d in core.list_documents()] == ["deploy", "pods", "svc"]
