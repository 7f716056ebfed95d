"""The OpenSearch store beyond the shared contract: request bodies, k-NN engines and spaces,
replacement with no window (step by step, and racing a search), concurrent writers, failed
writes, listing in pages, ownership of indexes, credentials and TLS.

Everything runs against the OpenSearch double (``opensearch_double.py``), which refuses any
request a cluster would refuse; start-up and readiness are in ``test_opensearch_startup.py``.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY

from docentlib.errors import Unavailable
from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.store import opensearch_bodies as bodies
from services.retrieval.store import opensearch_indexes as indexes
from services.retrieval.store import opensearch_store
from tests.retrieval.helpers import DIM, NASTY_QUERIES, make_doc, unit
from tests.retrieval.opensearch_double import OpenSearchDouble, Recorded
from tests.retrieval.opensearch_dsl import knn_scores

DOCS = [
    make_doc("deploy", ["kubectl rollout undo rolls back a Deployment", "scaling"], seed=0),
    make_doc("pods", ["pods restart on failure", "init containers run first"], seed=10),
    make_doc("svc", ["a Service exposes pods", "ClusterIP is the default type"], seed=20),
]  # fmt: skip


def settings(url: str, **overrides: object) -> RetrievalSettings:
    values = {"store": "opensearch", "opensearch_hosts": url, "dim": DIM,
              "opensearch_replicas": 0, "opensearch_startup_timeout_s": 0}  # fmt: skip
    return RetrievalSettings(**(values | overrides))


@pytest.fixture
def double() -> Iterator[OpenSearchDouble]:
    double = OpenSearchDouble().start()
    yield double
    double.stop()
    assert double.rejected == [], [(r.path, r.error) for r in double.rejected]


@pytest.fixture
def replicas(double: OpenSearchDouble) -> Iterator[tuple[RetrievalCore, RetrievalCore]]:
    """Two retrieval replicas on one cluster: a writer and a reader."""
    cores = RetrievalCore(settings(double.url)), RetrievalCore(settings(double.url))
    yield cores
    for core in cores:
        core.close()


def version(i: int, chunks: int):
    """Version i of one document: its own words, all with "zeppelin"."""
    texts = [f"zeppelin v{i} part{j}" for j in range(chunks)]
    return make_doc("doc", texts, seed=100 * i, content_hash=f"v{i}")


def seen_versions(core: RetrievalCore) -> list[str]:
    """The version labels of every "zeppelin" chunk a hybrid search shows."""
    return sorted(h.text.split()[1] for h in core.search("zeppelin", unit(0), 20, "hybrid"))


# -- request bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "space"), [("faiss", "innerproduct"), ("lucene", "cosinesimil"), ("nmslib", "l2")]
)
def test_the_chunk_index_maps_a_knn_vector_for_the_chosen_engine(engine, space) -> None:
    s = settings("http://x:9200", opensearch_knn_engine=engine, opensearch_knn_space=space,
                 hnsw_m=24, hnsw_ef_construction=128, hnsw_ef_search=64)  # fmt: skip
    definition = indexes.chunk_index_definition(s)
    index = definition["settings"]["index"]
    assert index["knn"] is True and index["analysis"]["analyzer"]["docent_text"]
    vector = definition["mappings"]["properties"]["vector"]
    parameters = {"m": 24, "ef_construction": 128} | ({"ef_search": 64} if engine == "faiss"
                                                     else {})  # fmt: skip
    assert vector == {
        "type": "knn_vector",
        "dimension": DIM,
        "method": {"name": "hnsw", "engine": engine, "space_type": space,
                   "parameters": parameters},
    }  # fmt: skip
    assert ("knn.algo_param.ef_search" in index) == (engine == "nmslib")
    assert definition["mappings"]["dynamic"] == "strict"
    assert definition["mappings"]["_meta"] == {
        "docent_store": {
            "schema_version": 1,
            "role": "chunks",
            "dim": DIM,
            "engine": engine,
            "space": space,
        }
    }


@pytest.mark.parametrize("space", ["innerproduct", "cosinesimil", "l2"])
def test_knn_scores_turn_back_into_cosine(space: str) -> None:
    """The store inverts the scores the k-NN plugin documents (the double's formulas)."""
    query = unit(1)
    vectors = np.stack([unit(i) for i in range(2, 40)]).astype(np.float64)
    scores = knn_scores(space, query.astype(np.float64), vectors)
    back = [bodies.cosine_from_score(float(s), space) for s in scores]
    assert back == pytest.approx(list(vectors @ query), abs=1e-6)


def test_shown_version_is_current_else_a_recent_previous_else_none() -> None:
    record = bodies.Record("d", "t", "p", "h", 2, "v2", "v1", flipped_at=1_000, seq_no=3,
                           primary_term=1)  # fmt: skip
    assert bodies.shown_version(record, {"v1", "v2"}, now_ms=9_000, grace_ms=2_000) == "v2"
    assert bodies.shown_version(record, {"v1"}, now_ms=2_500, grace_ms=2_000) == "v1"
    assert bodies.shown_version(record, {"v1"}, now_ms=3_500, grace_ms=2_000) is None
    assert bodies.shown_version(record, {"v0"}, now_ms=1_000, grace_ms=2_000) is None
    assert bodies.shown_version(None, {"v2"}, now_ms=1_000, grace_ms=2_000) is None


def test_cleanup_deletes_replaced_versions_and_only_old_leftovers() -> None:
    query = bodies.cleanup_query(["old1"], ["d1", "d2"], ["new1", "new2"], cutoff_ms=500)
    should = query["query"]["bool"]["should"]
    assert should[0] == {"terms": {"version": ["old1"]}}
    assert should[1]["bool"]["filter"] == [
        {"terms": {"doc_id": ["d1", "d2"]}},
        {"range": {"written_at": {"lt": 500}}},
    ]
    assert should[1]["bool"]["must_not"] == [{"terms": {"version": ["new1", "new2"]}}]
    assert bodies.cleanup_query([], [], [], 0) is None


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_user_text_reaches_opensearch_only_as_match_words(query: str) -> None:
    body = bodies.match_body(query, 10)
    if body is None:
        return
    assert set(body["query"]) == {"match"} and "vector" not in body["_source"]
    words = body["query"]["match"]["body"]["query"].split()
    assert all(w.isalnum() for w in words) and len(words) <= 64


def test_record_ids_are_hashes_so_long_document_ids_fit() -> None:
    long_id = "docs/" + "x" * 2000 + ".md"
    assert len(bodies.record_id(long_id)) == 64 and bodies.record_id("a") != bodies.record_id("b")


# -- engines, spaces, scores -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "space"), [("faiss", "innerproduct"), ("lucene", "cosinesimil"), ("nmslib", "l2")]
)
def test_every_engine_and_space_ranks_by_cosine(double, engine: str, space: str) -> None:
    core = RetrievalCore(settings(double.url, opensearch_knn_engine=engine,
                                  opensearch_knn_space=space))  # fmt: skip
    core.upsert(DOCS)
    hits = core.search("", unit(21), 6, "dense")
    chunks = {f"{d.doc_id}#{i}": c.vector for d in DOCS for i, c in enumerate(d.chunks)}
    expected = sorted(chunks, key=lambda cid: -float(chunks[cid] @ unit(21)))
    assert [h.chunk_id for h in hits] == expected
    for hit in hits:
        assert hit.score == pytest.approx(float(chunks[hit.chunk_id] @ unit(21)), abs=1e-5)
    core.close()


def test_requests_are_timed_by_operation(double) -> None:
    def count(op: str) -> float:
        name = "docent_retrieval_opensearch_request_seconds_count"
        return REGISTRY.get_sample_value(name, {"op": op}) or 0.0

    before = {op: count(op) for op in ("bulk", "search", "mget")}
    core = RetrievalCore(settings(double.url))
    core.upsert(DOCS)
    core.search("pods", unit(1), 3, "hybrid")
    assert all(count(op) > before[op] for op in before)
    core.close()


# -- replacing without a window -------------------------------------------------------------------


@pytest.mark.parametrize("periodic_refresh", [False, True])
def test_another_replica_sees_one_whole_version_after_every_write_step(
    double: OpenSearchDouble, replicas, periodic_refresh: bool
) -> None:
    """After each request the writer makes (chunks, record switch, cleanup), the reader
    searches; with ``periodic_refresh`` a refresh first makes every write so far searchable,
    as OpenSearch's periodic refresh may at any moment."""
    writer, reader = replicas
    writer.upsert([version(0, 3)])
    observed: list[tuple[str, list[str]]] = []

    def probe(record: Recorded) -> None:
        if periodic_refresh:
            double.refresh_all()
        observed.append((record.op, seen_versions(reader)))

    double.after_write.append(probe)
    writer.upsert([version(1, 2)])
    writer.upsert([version(2, 4)])
    double.after_write.clear()
    assert len(observed) >= 6  # chunks, record, cleanup, twice
    for op, labels in observed:
        assert labels in (["v0"] * 3, ["v1"] * 2, ["v2"] * 4), (op, labels)
    assert seen_versions(reader) == ["v2"] * 4
    assert reader.stats()["chunks"] == 4  # replaced versions were deleted


def test_a_search_that_read_the_old_version_still_shows_it_whole(double, replicas) -> None:
    """The race the grace period closes: the reader's candidates come from a view before the
    new chunks were searchable, and the writer switches versions (and deletes the old chunks)
    before the reader reads the records."""
    writer, reader = replicas
    writer.upsert([version(0, 3)])
    store = reader.store
    real_resolve = store.resolve

    def resolve_after_a_replace(candidates):
        writer.upsert([version(1, 2)])  # lands between the reader's search and its resolve
        return real_resolve(candidates)

    store.resolve = resolve_after_a_replace  # type: ignore[method-assign]
    assert seen_versions(reader) == ["v0"] * 3  # the document as it was, whole
    store.resolve = real_resolve  # type: ignore[method-assign]
    assert seen_versions(reader) == ["v1"] * 2


def test_without_the_grace_period_that_race_loses_the_document(double) -> None:
    writer = RetrievalCore(settings(double.url))
    reader = RetrievalCore(settings(double.url, opensearch_replace_grace_s=0))
    writer.upsert([version(0, 3)])
    real_resolve = reader.store.resolve

    def resolve_after_a_replace(candidates):
        writer.upsert([version(1, 2)])
        return real_resolve(candidates)

    reader.store.resolve = resolve_after_a_replace  # type: ignore[method-assign]
    assert seen_versions(reader) == []  # why opensearch_replace_grace_s exists
    writer.close()
    reader.close()


def test_concurrent_writers_of_one_document_end_with_one_whole_version(double, replicas) -> None:
    """B replaces the document while A is between writing its chunks and switching: A's
    conditional switch conflicts, A reads B's record and switches after it (last writer
    wins); B's chunks, now replaced, are deleted."""
    a, b = replicas
    a.upsert([version(0, 3)])
    interleaved = []

    def b_writes_in_between(record: Recorded) -> None:
        if not interleaved and record.op == "bulk" and b"zeppelin v2" in record.body:
            interleaved.append(True)
            b.upsert([version(1, 2)])

    double.after_write.append(b_writes_in_between)
    a.upsert([version(2, 4)])
    double.after_write.clear()
    assert interleaved
    switches = [r for r in double.requests if r.op == "bulk"
                and any(line.get("content_hash") == "v2" for line in r.ndjson())]  # fmt: skip
    assert len(switches) == 2  # the first conflicted (409), the second won
    assert seen_versions(a) == seen_versions(b) == ["v2"] * 4
    assert a.list_documents()[0].content_hash == "v2"
    assert a.stats()["chunks"] == 4


def test_a_document_deleted_during_its_upsert_stays_deleted(double, replicas) -> None:
    a, b = replicas
    a.upsert([version(0, 3)])
    done = []

    def b_deletes_in_between(record: Recorded) -> None:
        if not done and record.op == "bulk" and b"zeppelin v1" in record.body:
            done.append(b.delete(["doc"], []))

    double.after_write.append(b_deletes_in_between)
    assert a.upsert([version(1, 2)]) == (1, 2)  # linearised before the delete
    double.after_write.clear()
    assert done == [(1, 3)]
    assert seen_versions(a) == [] and a.list_documents() == []
    assert a.stats() == {"documents": 0, "chunks": 0}


def test_a_failed_switch_leaves_the_old_version_and_no_new_chunks(double, replicas) -> None:
    writer, reader = replicas
    writer.upsert([version(0, 3)])
    double.fail(
        lambda r: r.op == "bulk" and b"-documents" in r.body,
        status=503,
        kind="cluster_block_exception",
        reason="blocked",
        times=3,
    )  # 1 + 2 retries
    with pytest.raises(Unavailable, match="HTTP 503"):
        writer.upsert([version(1, 2)])
    assert seen_versions(reader) == ["v0"] * 3
    assert reader.stats()["chunks"] == 3  # the failed upsert's chunks were deleted


def test_a_switch_whose_answer_was_lost_is_not_undone(double, replicas) -> None:
    """The record switch is applied but its answer lost (503); the client's retry then
    conflicts with the switch itself: the store must see its own version and stop there, not
    treat it as a competing write (and delete its own chunks)."""
    writer, reader = replicas
    writer.upsert([version(0, 3)])
    double.fail(lambda r: r.op == "bulk" and b"-documents" in r.body, status=503,
                kind="unavailable", reason="lost", times=1, after_applying=True)  # fmt: skip
    assert writer.upsert([version(1, 2)]) == (1, 2)
    switches = [r for r in double.requests if r.op == "bulk"
                and any(line.get("content_hash") == "v1" for line in r.ndjson())]  # fmt: skip
    assert [r.status for r in switches] == [503, 200]  # applied, answer lost; retry conflicted
    assert seen_versions(reader) == ["v1"] * 2
    assert reader.stats()["chunks"] == 2


def test_listing_and_deleting_by_path_go_through_pages(double, monkeypatch) -> None:
    monkeypatch.setattr(opensearch_store, "PAGE", 2)
    core = RetrievalCore(settings(double.url))
    docs = [make_doc(f"d{i}", [f"text {i}"], source_path="same.md" if i % 2 else f"{i}.md",
                     seed=i) for i in range(7)]  # fmt: skip
    core.upsert(docs)
    assert [d.doc_id for d in core.list_documents()] == [f"d{i}" for i in range(7)]
    assert core.delete([], ["same.md"]) == (3, 3)
    assert [d.doc_id for d in core.list_documents()] == ["d0", "d2", "d4", "d6"]
    core.close()


# -- indexes it does not own, credentials, TLS -----------------------------------------------------


def test_an_index_of_another_dimension_is_refused_and_kept(double) -> None:
    RetrievalCore(settings(double.url)).close()
    with pytest.raises(Unavailable, match=r"was created with .*'dim': 16.*'dim': 32"):
        RetrievalCore(settings(double.url, dim=32))
    assert "docent-chunks" in double.indexes and "indices.delete" not in double.calls()


def test_a_bm25_index_of_the_sparse_backend_is_not_taken_over(double) -> None:
    from services.retrieval.sparse.opensearch_index import OpenSearchIndex

    OpenSearchIndex(settings(double.url, store="embedded", sparse_backend="opensearch")).close()
    with pytest.raises(Unavailable, match="BM25 index of SPARSE_BACKEND=opensearch"):
        RetrievalCore(settings(double.url))
    double.requests.clear()


def test_credentials_are_sent_and_never_shown(double) -> None:
    core = RetrievalCore(settings(double.url, opensearch_username="docent",
                                  opensearch_password="s3cret"))  # fmt: skip
    expected = "Basic " + base64.b64encode(b"docent:s3cret").decode()
    assert {r.headers.get("authorization") for r in double.requests} == {expected}
    assert "s3cret" not in repr(core.settings)
    core.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl, scripts/system-packages.txt)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_with_a_ca_bundle_and_a_refused_certificate(certificate) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    double = OpenSearchDouble().start(tls=context)
    try:
        assert double.url.startswith("https://")
        trusted = RetrievalCore(settings(double.url, opensearch_ca_certs=cert))
        trusted.upsert(DOCS[:1])
        assert trusted.search("rollout", None, 1, "sparse")[0].doc_id == "deploy"
        trusted.close()
        with pytest.raises(Unavailable, match=r"TLS with OpenSearch .* failed"):
            RetrievalCore(settings(double.url, opensearch_startup_timeout_s=30))  # not retried
        unverified = RetrievalCore(settings(double.url, opensearch_verify_certs=False))
        unverified.close()
    finally:
        double.stop()
    assert double.rejected == []


def test_a_body_the_double_refuses_is_reported_not_hidden(double) -> None:
    """The double is strict: an unknown field under ``dynamic: strict`` is refused."""
    RetrievalCore(settings(double.url)).close()
    line = json.dumps({"index": {"_index": "docent-chunks", "_id": "x"}})
    status, answer = double.handle("POST", "/_bulk", f'{line}\n{{"surprise": 1}}\n'.encode(), {})
    assert status == 200 and answer["errors"] is True
    assert answer["items"][0]["index"]["error"]["type"] == "strict_dynamic_mapping_exception"
    assert len(double.rejected) == 1
    double.rejected.clear()
