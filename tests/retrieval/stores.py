"""Every store the contract suite runs against, built the same way.

- ``embedded``: SQLite docstore + FAISS + tantivy in a temporary data dir (real).
- ``embedded+opensearch-bm25``: the same with BM25 in OpenSearch (``SPARSE_BACKEND``), on the
  OpenSearch double.
- ``opensearch``: the OpenSearch store on the double (``opensearch_double.py``).
- ``opensearch-live``: the OpenSearch store on the cluster ``DOCENT_TEST_OPENSEARCH_URL`` names
  (skipped, with that reason, only when it is unset). Optional: ``..._USERNAME``,
  ``..._PASSWORD``, ``..._VERIFY_CERTS=0``, ``..._CA_CERTS``. Each test makes its own
  ``docent-test-<random>`` indexes and deletes them afterwards.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from tests.retrieval.helpers import DIM
from tests.retrieval.opensearch_double import OpenSearchDouble, Recorded

KINDS = ["embedded", "embedded+opensearch-bm25", "opensearch", "opensearch-live"]
LIVE_URL = os.environ.get("DOCENT_TEST_OPENSEARCH_URL")


def is_bm25_search(record: Recorded) -> bool:
    """A ``_search`` whose query is a BM25 ``match`` (what a sparse retriever sends)."""
    if record.op != "search" or not record.body:
        return False
    return "match" in (json.loads(record.body).get("query") or {})


def live_options() -> dict[str, Any]:
    env = os.environ.get
    return {
        "opensearch_hosts": LIVE_URL,
        "opensearch_username": env("DOCENT_TEST_OPENSEARCH_USERNAME"),
        "opensearch_password": env("DOCENT_TEST_OPENSEARCH_PASSWORD"),
        "opensearch_verify_certs": env("DOCENT_TEST_OPENSEARCH_VERIFY_CERTS", "1") != "0",
        "opensearch_ca_certs": env("DOCENT_TEST_OPENSEARCH_CA_CERTS"),
        "opensearch_replicas": 0,  # a one-node test cluster stays green
        "opensearch_index": f"docent-test-{uuid.uuid4().hex[:10]}",
    }


@dataclass
class StoreUnderTest:
    """One store kind: builds cores on it, breaks its BM25 on demand, cleans up after."""

    kind: str
    tmp_path: Path
    double: OpenSearchDouble | None = None
    options: dict[str, Any] = field(default_factory=dict)
    cores: list[RetrievalCore] = field(default_factory=list)

    def settings(self, **overrides: Any) -> RetrievalSettings:
        values: dict[str, Any] = {
            "data_dir": self.tmp_path / "retrieval",
            "dim": DIM,
            "fetch_depth": 10,
            "rrf_k": 60,
            "opensearch_startup_timeout_s": 5,
            "opensearch_replicas": 0,
        }
        if self.kind == "embedded+opensearch-bm25":
            values["sparse_backend"] = "opensearch"
        if self.kind.startswith("opensearch"):
            values["store"] = "opensearch"
        if self.double is not None:
            values["opensearch_hosts"] = self.double.url
        return RetrievalSettings(**(values | self.options | overrides))

    def core(self, **overrides: Any) -> RetrievalCore:
        """A retrieval core on this store (a new replica, for the OpenSearch store)."""
        core = RetrievalCore(self.settings(**overrides))
        self.cores.append(core)
        return core

    @contextmanager
    def broken_sparse(self, core: RetrievalCore) -> Iterator[None]:
        """BM25 fails while inside: OpenSearch answers its searches 503; for tantivy the
        engine's outage is injected at its boundary (no server to take down)."""
        if self.double is not None:
            fault = self.double.fail(is_bm25_search)
            try:
                yield
            finally:
                self.double.faults.remove(fault)
            return
        if self.kind == "opensearch-live":
            pytest.skip("a live cluster's BM25 cannot be broken alone from here")
        sparse = core.store._sparse  # type: ignore[attr-defined]

        def down(query: str, k: int) -> list:
            raise ConnectionError("the BM25 engine is down")

        original = sparse.search
        sparse.search = down
        try:
            yield
        finally:
            sparse.search = original

    def close(self) -> None:
        for core in self.cores:
            core.close()
        if self.kind == "opensearch-live":
            _delete_live_indexes(self.settings())
        if self.double is not None:
            rejected = [(r.method, r.path, r.error, r.body[:300]) for r in self.double.rejected]
            self.double.stop()
            assert rejected == [], f"the double refused requests: {rejected}"


def _delete_live_indexes(settings: RetrievalSettings) -> None:
    from services.retrieval.opensearch_client import OpenSearchConnection
    from services.retrieval.store.opensearch_indexes import documents_index

    conn = OpenSearchConnection(settings)
    try:
        for name in (settings.opensearch_index, documents_index(settings.opensearch_index)):
            conn.client.indices.delete(index=name, ignore=[404])
    finally:
        conn.close()


def open_store(kind: str, tmp_path: Path) -> StoreUnderTest:
    if kind == "opensearch-live":
        if not LIVE_URL:
            pytest.skip("set DOCENT_TEST_OPENSEARCH_URL to run against a real OpenSearch")
        return StoreUnderTest(kind, tmp_path, options=live_options())
    double = OpenSearchDouble().start() if "opensearch" in kind else None
    return StoreUnderTest(kind, tmp_path, double)


def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    store = open_store(request.param, tmp_path)
    try:
        yield store
    finally:
        store.close()
