"""The BM25-only OpenSearch backend (``SPARSE_BACKEND=opensearch``) without a server.

Two layers: the pure request builders, and the real opensearch-py client talking HTTP to a
loopback recorder (``opensearch_wire``) that answers with scripted response shapes from the
OpenSearch REST documentation (errors, refusals, timeouts). The stateful OpenSearch double runs
the same backend under the store contract (``test_store_contract.py``); a real server only
``test_opensearch_live.py`` (DOCENT_TEST_OPENSEARCH_URL).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time

import pytest
from pydantic import ValidationError

from docentlib.errors import Unavailable
from services.retrieval.opensearch_client import redact
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse import SPARSE_INDEXES
from services.retrieval.sparse import opensearch_bodies as bodies
from services.retrieval.sparse.opensearch_index import OpenSearchIndex
from services.retrieval.sparse.tantivy_index import TantivyIndex
from tests.conftest import free_port
from tests.retrieval.helpers import NASTY_QUERIES
from tests.retrieval.opensearch_wire import SHARDS, Reply, WireServer, start

INDEX = "docent-test"
ENTRIES = [
    (1, "Use kubectl rollout undo to roll back a Deployment.", "Deployments", ("Rolling back",)),
    (2, "Pods restart according to their restartPolicy.", "Pods", ("Lifecycle", "Restarts")),
    (3, "A Service exposes pods on a stable address.", "Services", ()),
]
ACK = Reply(200, {"acknowledged": True})
CREATED = Reply(200, {"acknowledged": True, "shards_acknowledged": True, "index": INDEX})
REFRESHED = Reply(200, {"_shards": SHARDS})


def bulk_ok(*items: dict) -> Reply:
    return Reply(200, {"took": 30, "errors": False, "items": list(items)})


def mapping(meta: dict | None, concrete: str = INDEX) -> Reply:
    mappings: dict = {"properties": {"id": {"type": "long"}, "body": {"type": "text"}}}
    if meta is not None:
        mappings["_meta"] = meta
    return Reply(200, {concrete: {"mappings": mappings}})


def settings(url: str, **overrides: object) -> RetrievalSettings:
    values = {
        "sparse_backend": "opensearch",
        "opensearch_hosts": url,
        "opensearch_index": INDEX,
        "opensearch_startup_timeout_s": 0,  # fail at once: these tests script every answer
    }
    return RetrievalSettings(**(values | overrides))


@pytest.fixture
def wire():
    wire = WireServer()
    server = start(wire)
    yield wire
    server.shutdown()
    server.server_close()


def fresh(wire: WireServer, **overrides: object) -> OpenSearchIndex:
    """An index the backend creates (HEAD 404 → PUT), with the write endpoints scripted."""
    wire.on("HEAD", f"/{INDEX}", Reply(404))
    wire.on("PUT", f"/{INDEX}", CREATED)
    wire.on("PUT", f"/{INDEX}/_mapping", ACK)
    wire.on("POST", f"/{INDEX}/_refresh", REFRESHED)
    return OpenSearchIndex(settings(wire.url, **overrides))


# -- pure builders -------------------------------------------------------------------------------


def test_index_definition_is_one_bm25_field_analysed_like_tantivy_refreshed_on_commit() -> None:
    definition = bodies.index_definition(shards=3, replicas=2, k1=1.5, b=0.6)
    index = definition["settings"]["index"]
    assert (index["number_of_shards"], index["number_of_replicas"]) == (3, 2)
    assert index["refresh_interval"] == "-1"
    assert index["similarity"] == {"docent_bm25": {"type": "BM25", "k1": 1.5, "b": 0.6}}
    mappings = definition["mappings"]
    assert mappings["dynamic"] == "strict"
    assert mappings["properties"] == {
        "id": {"type": "long"},
        "body": {"type": "text", "analyzer": "docent_text", "similarity": "docent_bm25"},
    }
    assert index["analysis"]["analyzer"]["docent_text"] == {
        "type": "custom",
        "tokenizer": "docent_words",
        "filter": ["docent_max_length", "lowercase", "docent_porter2"],
    }
    assert mappings["_meta"] == {"docent": {"schema_version": 2, "generation": None}}


def test_upsert_actions_pair_an_index_op_keyed_by_chunk_id_with_the_body() -> None:
    lines = list(bodies.upsert_actions(INDEX, ENTRIES[1:2]))
    assert lines == [
        {"index": {"_index": INDEX, "_id": "2"}},
        {
            "id": 2,
            "body": "Pods\nLifecycle / Restarts\nPods restart according to their restartPolicy.",
        },
    ]
    assert list(bodies.delete_actions(INDEX, [5, 6])) == [
        {"delete": {"_index": INDEX, "_id": "5"}},
        {"delete": {"_index": INDEX, "_id": "6"}},
    ]


def test_chunking_counts_operations_and_never_splits_an_index_pair() -> None:
    lines = list(bodies.upsert_actions(INDEX, ENTRIES)) + list(bodies.delete_actions(INDEX, [9]))
    batches = list(bodies.chunked(iter(lines), 2))
    assert [len(b) for b in batches] == [4, 3]  # (2 index ops), (1 index op + 1 delete)
    assert [line for batch in batches for line in batch] == lines
    assert list(bodies.chunked(iter([]), 2)) == []


def test_bulk_failures_ignore_deleting_an_absent_id_and_name_real_errors() -> None:
    response = {
        "took": 11,
        "errors": True,
        "items": [
            {"delete": {"_index": INDEX, "_id": "7", "result": "not_found", "status": 404}},
            {"index": {"_index": INDEX, "_id": "1", "result": "created", "status": 201}},
            {"index": {"_index": INDEX, "_id": "2", "status": 429, "error": {
                "type": "es_rejected_execution_exception", "reason": "rejected execution"}}},
        ],
    }  # fmt: skip
    assert bodies.bulk_failures(response) == ["index _id=2: 429 rejected execution"]
    assert bodies.bulk_failures({"errors": False, "items": []}) == []


def test_search_body_is_a_plain_match_query_for_ids_only() -> None:
    assert bodies.search_body("How do I roll back the deployment?", 7) == {
        "size": 7,
        "_source": False,
        "track_total_hits": False,
        "query": {"match": {"body": {"query": "how do i roll back deployment", "operator": "or"}}},
    }
    assert bodies.search_body("", 5) is None
    assert bodies.search_body("?!", 5) is None
    assert bodies.search_body("pods", 0) is None
    assert bodies.search_body("to be or not to be", 3)["query"]["match"]["body"]["query"] == (
        "to be or not"
    )  # only stop words: kept, as tantivy does


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_user_text_is_never_query_syntax(query: str) -> None:
    body = bodies.search_body(query, 10)
    if body is None:
        return
    assert set(body["query"]) == {"match"}
    text = body["query"]["match"]["body"]["query"]
    assert all(word.isalnum() for word in text.split())  # no operators, quotes, fields, regex
    assert len(text.split()) <= 64
    assert "query_string" not in json.dumps(body)


def test_parse_hits_and_read_meta() -> None:
    response = {
        "took": 5, "timed_out": False, "_shards": SHARDS,
        "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": 2.5, "hits": [
            {"_index": INDEX, "_id": "12", "_score": 2.5},
            {"_index": INDEX, "_id": "3", "_score": 0.75},
        ]},
    }  # fmt: skip
    assert bodies.parse_hits(response) == [(12, 2.5), (3, 0.75)]
    assert bodies.parse_hits({"hits": {"hits": []}}) == []
    # an alias answers under the concrete index name
    assert bodies.read_meta(mapping(bodies.meta(4), "docent-test-v2").body) == {
        "schema_version": 2,
        "generation": 4,
    }
    assert bodies.read_meta(mapping(None).body) is None


# -- the real client over HTTP ---------------------------------------------------------------------


def test_a_missing_index_is_created_with_the_mapping(wire: WireServer) -> None:
    index = fresh(wire)
    assert wire.calls() == [("HEAD", f"/{INDEX}"), ("PUT", f"/{INDEX}")]
    assert wire.requests[1].json() == bodies.index_definition(1, 1, 1.2, 0.75)
    assert index.generation() is None
    index.close()


def test_write_commit_search_count_delete_clear_on_the_wire(wire: WireServer) -> None:
    index = fresh(wire, opensearch_bulk_chunk=2)
    wire.on("POST", "/_bulk", bulk_ok())
    wire.requests.clear()

    index.upsert(ENTRIES)
    index.commit(7)
    dirty, bulk1, bulk2, refresh, meta = wire.requests
    assert (dirty.method, dirty.path) == ("PUT", f"/{INDEX}/_mapping")
    assert dirty.json() == {"_meta": {"docent": {"schema_version": 2, "generation": None}}}
    assert (bulk1.method, bulk1.path, bulk2.path) == ("POST", "/_bulk", "/_bulk")
    assert bulk1.ndjson() + bulk2.ndjson() == list(bodies.upsert_actions(INDEX, ENTRIES))
    assert len(bulk1.ndjson()) == 4 and len(bulk2.ndjson()) == 2
    assert (refresh.method, refresh.path) == ("POST", f"/{INDEX}/_refresh")
    assert meta.json() == {"_meta": {"docent": {"schema_version": 2, "generation": 7}}}
    assert index.generation() == 7

    wire.requests.clear()
    wire.on("POST", f"/{INDEX}/_search", Reply(200, {
        "took": 2, "timed_out": False, "_shards": SHARDS,
        "hits": {"max_score": 1.9, "hits": [{"_index": INDEX, "_id": "1", "_score": 1.9}]},
    }))  # fmt: skip
    wire.on("POST", f"/{INDEX}/_count", Reply(200, {"count": 3, "_shards": SHARDS}))
    assert index.search("kubectl rollout", 5) == [(1, pytest.approx(1.9 * 2.2))]  # 1 + k1
    assert index.search("   ", 5) == []  # no request for an empty query
    assert len(index) == 3
    (search, count) = wire.requests
    assert search.json() == bodies.search_body("kubectl rollout", 5)
    assert (count.method, count.path) == ("POST", f"/{INDEX}/_count")

    wire.requests.clear()
    index.remove([1, 99])
    index.remove([])  # nothing to send
    assert wire.calls() == [("PUT", f"/{INDEX}/_mapping"), ("POST", "/_bulk")]
    assert wire.requests[1].ndjson() == list(bodies.delete_actions(INDEX, [1, 99]))

    wire.requests.clear()
    wire.on("POST", f"/{INDEX}/_delete_by_query", Reply(200, {
        "took": 147, "timed_out": False, "total": 2, "deleted": 2, "batches": 1,
        "version_conflicts": 0, "noops": 0, "retries": {"bulk": 0, "search": 0},
        "throttled_millis": 0, "requests_per_second": -1.0, "throttled_until_millis": 0,
        "failures": [],
    }))  # fmt: skip
    index.clear()
    refresh, delete = wire.requests  # already dirty since the last commit: no _meta write
    assert (refresh.path, delete.method, delete.path) == (
        f"/{INDEX}/_refresh", "POST", f"/{INDEX}/_delete_by_query",
    )  # fmt: skip
    assert delete.query == {"conflicts": "proceed", "refresh": "false"}
    assert delete.json() == {"query": {"match_all": {}}}
    index.close()
    index.close()


def test_an_existing_index_keeps_its_generation(wire: WireServer) -> None:
    wire.on("HEAD", f"/{INDEX}", Reply(200))
    wire.on("GET", f"/{INDEX}/_mapping", mapping(bodies.meta(42)))
    index = OpenSearchIndex(settings(wire.url))
    assert index.generation() == 42
    assert wire.calls() == [("HEAD", f"/{INDEX}"), ("GET", f"/{INDEX}/_mapping")]


def test_an_index_docent_did_not_create_is_never_touched(wire: WireServer) -> None:
    wire.on("HEAD", f"/{INDEX}", Reply(200))
    wire.on("GET", f"/{INDEX}/_mapping", mapping({"owner": "someone else"}))
    with pytest.raises(Unavailable, match="not created by docent"):
        OpenSearchIndex(settings(wire.url))
    assert ("DELETE", f"/{INDEX}") not in wire.calls()


def test_another_schema_version_is_recreated(wire: WireServer) -> None:
    wire.on("HEAD", f"/{INDEX}", Reply(200))
    wire.on("GET", f"/{INDEX}/_mapping", mapping({"docent": {"schema_version": 0}}))
    wire.on("DELETE", f"/{INDEX}", ACK)
    wire.on("PUT", f"/{INDEX}", CREATED)
    index = OpenSearchIndex(settings(wire.url))
    assert wire.calls()[2:] == [("DELETE", f"/{INDEX}"), ("PUT", f"/{INDEX}")]
    assert index.generation() is None


def test_losing_the_creation_race_is_fine(wire: WireServer) -> None:
    error = {"type": "resource_already_exists_exception", "index": INDEX,
             "reason": f"index [{INDEX}/Xq2] already exists"}  # fmt: skip
    wire.on("HEAD", f"/{INDEX}", Reply(404))
    wire.on(
        "PUT", f"/{INDEX}", Reply(400, {"error": error | {"root_cause": [error]}, "status": 400})
    )
    assert OpenSearchIndex(settings(wire.url)).generation() is None


def test_rejected_bulk_items_become_unavailable(wire: WireServer) -> None:
    index = fresh(wire)
    wire.on("POST", "/_bulk", Reply(200, {"took": 3, "errors": True, "items": [
        {"index": {"_index": INDEX, "_id": "1", "status": 400, "error": {
            "type": "mapper_parsing_exception", "reason": "failed to parse field [id]"}}},
    ]}))  # fmt: skip
    with pytest.raises(
        Unavailable, match=r"rejected 1 bulk operations.*_id=1: 400 failed to parse"
    ):
        index.upsert(ENTRIES[:1])


def test_credentials_are_sent_and_a_refusal_is_unavailable(wire: WireServer) -> None:
    wire.on("HEAD", f"/{INDEX}", Reply(401, raw=b"Unauthorized"))
    with pytest.raises(Unavailable, match=r"refused exists.*USERNAME") as caught:
        OpenSearchIndex(settings(wire.url, opensearch_username="docent",
                                 opensearch_password="s3cret"))  # fmt: skip
    assert "s3cret" not in caught.value.message
    expected = "Basic " + base64.b64encode(b"docent:s3cret").decode()
    assert wire.requests[0].headers["authorization"] == expected


def test_server_errors_on_search_become_unavailable(wire: WireServer) -> None:
    index = fresh(wire)
    failure = {"type": "search_phase_execution_exception", "reason": "all shards failed"}
    wire.on("POST", f"/{INDEX}/_search", Reply(503, {"error": failure | {"root_cause": [failure]},
                                                     "status": 503}))  # fmt: skip
    with pytest.raises(Unavailable, match="search on index 'docent-test' failed: HTTP 503"):
        index.search("pods", 3)


def test_an_unreachable_host_is_unavailable_quickly() -> None:
    port = free_port()  # nothing listens there
    start = time.monotonic()
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port} is unreachable") as caught:
        OpenSearchIndex(settings(f"http://user:pw@127.0.0.1:{port}", opensearch_timeout_s=2))
    assert time.monotonic() - start < 5
    assert ":pw@" not in caught.value.message


def test_a_server_that_never_answers_times_out_as_unavailable() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never replies
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    start = time.monotonic()
    with pytest.raises(Unavailable, match="unreachable"):
        OpenSearchIndex(settings(url, opensearch_timeout_s=0.5, opensearch_max_retries=0))
    assert time.monotonic() - start < 5
    listener.close()
    for conn in accepted:
        conn.close()


# -- configuration -------------------------------------------------------------------------------


def test_the_factory_picks_the_configured_engine(wire: WireServer, tmp_path) -> None:
    local = SPARSE_INDEXES.get("tantivy")(RetrievalSettings(), tmp_path / "sparse")
    assert isinstance(local, TantivyIndex)
    local.close()
    wire.on("HEAD", f"/{INDEX}", Reply(200))
    wire.on("GET", f"/{INDEX}/_mapping", mapping(bodies.meta(1)))
    remote = SPARSE_INDEXES.get("opensearch")(settings(wire.url), tmp_path / "unused")
    assert isinstance(remote, OpenSearchIndex) and not (tmp_path / "unused").exists()


def test_settings_validate_hosts_index_and_hide_the_password() -> None:
    s = settings("https://a.example:9200, https://b.example:9200", opensearch_password="pw")
    assert s.opensearch_host_list() == ["https://a.example:9200", "https://b.example:9200"]
    assert "pw" not in repr(s) and s.sparse_backend == "opensearch"
    for bad in ({"opensearch_hosts": "a.example:9200"}, {"opensearch_hosts": " , "},
                {"opensearch_index": "Docent"}, {"opensearch_index": "_x"},
                {"sparse_backend": "lucene"}):  # fmt: skip
        with pytest.raises(ValidationError):
            RetrievalSettings(**bad)
    assert redact("https://u:p@h.example:9200/") == "https://h.example:9200"
