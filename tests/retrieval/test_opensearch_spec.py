"""Every request the retrieval service sends OpenSearch, checked against the OpenSearch API
specification itself (the double checks them against rules written from it on every run).

Runs when ``DOCENT_TEST_OPENSEARCH_SPEC`` names a checkout of
github.com/opensearch-project/opensearch-api-specification (the folder holding ``spec/``);
skipped otherwise, because the specification is not part of this repository. See
docs/opensearch.md for the commit it was last run against.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from tests.retrieval.helpers import DIM, make_doc, unit
from tests.retrieval.opensearch_double import PARAMS, OpenSearchDouble, Recorded
from tests.retrieval.opensearch_spec import Spec, body_of

SPEC = os.environ.get("DOCENT_TEST_OPENSEARCH_SPEC")
pytestmark = pytest.mark.skipif(
    not SPEC, reason="set DOCENT_TEST_OPENSEARCH_SPEC to a checkout of the OpenSearch API spec"
)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(Path(SPEC or ""))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> list[Recorded]:
    """Every request of a workload on both OpenSearch users: the store and the BM25 backend."""
    double = OpenSearchDouble().start()
    common = {"opensearch_hosts": double.url, "dim": DIM, "opensearch_replicas": 0}
    docs = [make_doc(f"d{i}", [f"pods restart {i}", f"services route {i}"], seed=i,
                     source_path=f"p{i % 2}.md") for i in range(4)]  # fmt: skip
    bm25 = {"store": "embedded", "sparse_backend": "opensearch", "opensearch_index": "bm25",
            "data_dir": tmp_path_factory.mktemp("r")}  # fmt: skip
    for extra in ({"store": "opensearch"}, bm25):
        core = RetrievalCore(RetrievalSettings(**(common | extra)))
        core.upsert(docs)
        core.upsert(docs[:1])
        for mode in ("sparse", "dense", "hybrid"):
            core.search("pods restart", unit(1), 3, mode)
        core.list_documents()
        core.list_documents(["d1"])
        core.stats()
        core.delete(["d0"], ["p1.md"])
        core.close()
    double.stop()
    assert double.rejected == []
    return double.requests


def test_the_workload_uses_every_operation_the_double_serves(recorded) -> None:
    # indices.delete: only when the BM25 backend recreates an index of an older schema
    assert {r.op for r in recorded} == set(PARAMS) - {"indices.delete"}


def test_every_request_matches_an_operation_and_its_parameters(spec: Spec, recorded) -> None:
    for request in recorded:
        operation = spec.find(request.method, request.path)
        allowed = spec.parameters(operation)
        assert set(request.query) <= allowed, (operation.id, request.query)
        assert PARAMS[request.op] <= allowed, (operation.id, PARAMS[request.op] - allowed)


def test_every_body_validates_against_the_spec(spec: Spec, recorded) -> None:
    problems = []
    for request in recorded:
        operation = spec.find(request.method, request.path)
        errors = spec.errors(operation, body_of(request))
        if errors:
            problems.append((operation.id, errors[:3], request.body[:200]))
    assert problems == []


def test_the_check_is_not_vacuous(spec: Spec) -> None:
    """A k-NN query without its vector, a size that is no number and a knn_vector mapping
    without its dimension are caught (the spec leaves the set of query names open, so a
    misspelt query name is caught only by the double)."""
    search = spec.find("POST", "/docent-chunks/_search")
    assert spec.errors(search, {"query": {"match": {"body": {"query": "x"}}}}) == []
    assert spec.errors(search, {"query": {"knn": {"vector": {"k": 1}}}})
    assert spec.errors(search, {"size": "ten"})
    create = spec.find("PUT", "/docent-chunks")
    bad_vector = {"mappings": {"properties": {"v": {"type": "knn_vector"}}}}  # no dimension
    assert spec.errors(create, bad_vector)
