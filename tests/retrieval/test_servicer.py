"""The retrieval service over real gRPC: readiness, every RPC, bad input and its metrics.

The core's behaviour is tested in test_core.py; this proves the servicer's proto mapping
(documents in, hits and document infos out, search modes) and the runtime around it.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from docent.v1 import retrieval_pb2, retrieval_pb2_grpc
from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.retrieval.types import DocumentRecord
from services.runtime.clients import Endpoint, RetrievalClient
from tests.retrieval.helpers import DIM, make_doc, unit
from tests.serving import Served, error_count, rpc_count, rpc_status, serve_in_process

DOCS = [
    make_doc("deploy", ["kubectl rollout undo rolls back a Deployment", "scaling replicas"]),
    make_doc("pods", ["pods restart on failure", "init containers run first"], seed=10),
    make_doc("svc", ["a Service exposes pods", "ClusterIP is the default type"], seed=20),
]
METHODS = ("Upsert", "Search", "ListDocuments", "Delete")


def to_proto(doc: DocumentRecord) -> retrieval_pb2.Document:
    return retrieval_pb2.Document(
        doc_id=doc.doc_id,
        title=doc.title,
        source_path=doc.source_path,
        content_hash=doc.content_hash,
        chunks=[
            retrieval_pb2.Chunk(
                chunk_id=c.chunk_id,
                text=c.text,
                heading_path=list(c.heading_path),
                char_start=c.char_start,
                char_end=c.char_end,
                vector=c.vector.tolist(),
            )
            for c in doc.chunks
        ],
    )


def _stub(channel: grpc.aio.Channel) -> retrieval_pb2_grpc.RetrievalStub:
    return retrieval_pb2_grpc.RetrievalStub(channel)


def _search(channel: grpc.aio.Channel, **fields: object):
    request = retrieval_pb2.SearchRequest(**{"query": "pods", "k": 3, **fields})
    return _stub(channel).Search(request, timeout=30)


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("retrieval") / "data"
    settings = RetrievalSettings(data_dir=data, dim=DIM, fetch_depth=10, max_k=20)
    async with serve_in_process(settings, RetrievalServicer(settings), _search) as served:
        yield served


@pytest.fixture
async def client(served: Served):
    client = RetrievalClient(Endpoint("retrieval", served.address, 30.0))
    yield client
    await client.close()


async def test_not_serving_until_the_index_is_loaded(served: Served) -> None:
    assert served.health_before_load == "NOT_SERVING"
    assert served.probe_before_load is not None
    code, details = served.probe_before_load
    assert code == grpc.StatusCode.UNAVAILABLE and "still loading" in details
    assert served.health_after_load == "SERVING"


async def test_upsert_search_list_and_delete(served: Served, client: RetrievalClient) -> None:
    before = {m: rpc_count("retrieval", m) for m in METHODS}
    assert await client.upsert([to_proto(d) for d in DOCS]) == (3, 6)

    (hit,) = await client.search("rollout undo", None, 1, "sparse")
    assert (hit.chunk_id, hit.doc_id, hit.title, hit.source_path) == (
        "deploy#0",
        "deploy",
        "Title of deploy",
        "docs/deploy.md",
    )
    assert list(hit.heading_path) == ["Title of deploy", "Section 0"]
    assert hit.text == DOCS[0].chunks[0].text and dict(hit.retriever_ranks) == {"sparse": 1}

    dense = await client.search("", unit(11), 2, "dense")
    assert len(dense) == 2 and dense[0].chunk_id == "pods#1"
    assert dense[0].score == pytest.approx(1.0, abs=1e-5)

    reply = await client.search_response("pods", unit(20), 4, "hybrid")
    assert reply.hits[0].chunk_id == "svc#0" and list(reply.degraded) == []
    assert set(reply.hits[0].retriever_ranks) == {"dense", "sparse"}
    unspecified = await _search(served.channel, vector=unit(20).tolist(), k=4)
    assert [h.chunk_id for h in unspecified.hits] == [h.chunk_id for h in reply.hits]

    infos = {i.doc_id: i for i in await client.list_documents()}
    assert sorted(infos) == ["deploy", "pods", "svc"]
    assert infos["pods"].chunk_count == 2 and infos["pods"].source_path == "docs/pods.md"
    assert [i.doc_id for i in await client.list_documents(["svc"])] == ["svc"]

    assert await client.delete(doc_ids=["svc"]) == (1, 2)
    assert await client.delete(source_paths=["docs/pods.md"]) == (1, 2)
    assert [i.doc_id for i in await client.list_documents()] == ["deploy"]
    left = await client.search("pods Service", unit(20), 6, "hybrid")
    assert {h.doc_id for h in left} == {"deploy"}

    calls = {"Upsert": 1, "Search": 5, "ListDocuments": 3, "Delete": 2}
    assert {m: rpc_count("retrieval", m) - before[m] for m in METHODS} == calls


def _chunkless(doc_id: str) -> retrieval_pb2.UpsertRequest:
    return retrieval_pb2.UpsertRequest(documents=[retrieval_pb2.Document(doc_id=doc_id)])


def _wrong_dim() -> retrieval_pb2.UpsertRequest:
    doc = to_proto(make_doc("short", ["text"]))
    del doc.chunks[0].vector[1:]
    return retrieval_pb2.UpsertRequest(documents=[doc])


@pytest.mark.parametrize(
    ("method", "request_", "message"),
    [
        ("Upsert", _chunkless(""), "every document needs a doc_id"),
        ("Upsert", _wrong_dim(), f"expected ({DIM},)"),
        ("Search", retrieval_pb2.SearchRequest(query="pods", k=0), "k must be an integer"),
        ("Search", retrieval_pb2.SearchRequest(query="pods", k=3, mode=99), "unknown search mode"),
        ("Search", retrieval_pb2.SearchRequest(query="", k=3, mode=1), "needs a non-empty query"),
        ("Search", retrieval_pb2.SearchRequest(query="q", k=3, mode=2), "needs a query vector"),
        ("Delete", retrieval_pb2.DeleteRequest(), "at least one doc_id or source_path"),
    ],
)
async def test_bad_input_is_invalid_argument(
    served: Served, method: str, request_: object, message: str
) -> None:
    before = error_count("retrieval", method, "INVALID_ARGUMENT")
    code, details = await rpc_status(getattr(_stub(served.channel), method)(request_, timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and message in details
    assert error_count("retrieval", method, "INVALID_ARGUMENT") == before + 1


async def test_state_survives_a_restart_of_the_server(tmp_path: Path) -> None:
    """What Upsert wrote is served again by a new server on the same data dir."""
    settings = RetrievalSettings(data_dir=tmp_path / "data", dim=DIM)
    async with serve_in_process(settings, RetrievalServicer(settings)) as served:
        client = RetrievalClient(Endpoint("retrieval", served.address, 30.0))
        assert await client.upsert([to_proto(DOCS[0])]) == (1, 2)
        await client.close()
    async with serve_in_process(settings, RetrievalServicer(settings)) as served:
        client = RetrievalClient(Endpoint("retrieval", served.address, 30.0))
        (hit,) = await client.search("rollout", None, 1, "sparse")
        await client.close()
    assert hit.chunk_id == "deploy#0"
