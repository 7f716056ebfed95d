"""The OpenSearch backend against a real OpenSearch server, only when one is named.

Skipped unless ``DOCENT_TEST_OPENSEARCH_URL`` is set (e.g. ``http://127.0.0.1:9200``), because
no OpenSearch server can run in this project's CI. Optional: ``DOCENT_TEST_OPENSEARCH_USERNAME``,
``DOCENT_TEST_OPENSEARCH_PASSWORD``, ``DOCENT_TEST_OPENSEARCH_VERIFY_CERTS=0``,
``DOCENT_TEST_OPENSEARCH_CA_CERTS``. Each test creates its own ``docent-test-<random>`` index and
deletes it afterwards; nothing else on the cluster is touched. See docs/opensearch.md.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.sparse.opensearch_index import OpenSearchIndex
from services.retrieval.types import SearchMode
from tests.retrieval.helpers import DIM, NASTY_QUERIES, make_doc

URL = os.environ.get("DOCENT_TEST_OPENSEARCH_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="set DOCENT_TEST_OPENSEARCH_URL to run against a real OpenSearch server"
)
ENTRIES = [
    (1, "Use kubectl rollout undo to roll back a Deployment.", "Deployments", ("Rolling back",)),
    (2, "Pods restart according to their restartPolicy.", "Pods", ("Lifecycle",)),
    (3, "A Service exposes pods on a stable address.", "Services", ("Overview",)),
    (4, "Nothing about the topic at all.", "Misc", ()),
]


@pytest.fixture
def live_settings(tmp_path: Path):
    """Settings for a fresh index on the named server; the index is deleted afterwards."""
    env = os.environ.get
    settings = RetrievalSettings(
        data_dir=tmp_path / "retrieval",
        dim=DIM,
        sparse_backend="opensearch",
        opensearch_hosts=URL,
        opensearch_index=f"docent-test-{uuid.uuid4().hex[:10]}",
        opensearch_username=env("DOCENT_TEST_OPENSEARCH_USERNAME"),
        opensearch_password=env("DOCENT_TEST_OPENSEARCH_PASSWORD"),
        opensearch_verify_certs=env("DOCENT_TEST_OPENSEARCH_VERIFY_CERTS", "1") != "0",
        opensearch_ca_certs=env("DOCENT_TEST_OPENSEARCH_CA_CERTS"),
        opensearch_replicas=0,  # a one-node test cluster stays green
    )
    yield settings
    admin = OpenSearchIndex(settings)  # same connection options
    admin._client.indices.delete(index=settings.opensearch_index, ignore=[404])
    admin.close()


def _ids(hits: list[tuple[int, float]]) -> list[int]:
    return [id_ for id_, _ in hits]


def test_index_commit_search_remove_clear(live_settings: RetrievalSettings) -> None:
    index = OpenSearchIndex(live_settings)
    assert index.generation() is None and len(index) == 0
    index.upsert(list(ENTRIES))
    assert len(index) == 0 and index.search("kubectl", 5) == []  # searchable only at commit
    index.commit(1)
    assert len(index) == 4 and index.generation() == 1
    hits = index.search("kubectl rollout", 10)
    assert _ids(hits)[0] == 1 and hits[0][1] > 0
    assert _ids(index.search("restarting", 10)) == [2]  # english stemming
    assert _ids(index.search("lifecycle", 10)) == [2]  # headings are searched
    for query in NASTY_QUERIES:
        assert isinstance(index.search(query, 10), list)
    index.upsert([(1, "Completely different words now.", "Other", ())])
    index.remove([3, 999])
    index.commit(2)
    assert len(index) == 3 and index.search("kubectl", 5) == []
    index.clear()
    assert len(index) == 3  # still the old entries until the commit
    index.commit(3)
    assert len(index) == 0
    index.close()


def test_generation_survives_reopen_and_an_uncommitted_write_clears_it(
    live_settings: RetrievalSettings,
) -> None:
    index = OpenSearchIndex(live_settings)
    index.upsert(list(ENTRIES))
    index.commit(5)
    index.close()
    reopened = OpenSearchIndex(live_settings)
    assert reopened.generation() == 5 and len(reopened) == 4
    reopened.remove([1])  # a "crash" before commit
    reopened.close()
    assert OpenSearchIndex(live_settings).generation() is None  # the core will rebuild


def test_retrieval_core_on_opensearch(live_settings: RetrievalSettings) -> None:
    docs = [
        make_doc("deploy", ["kubectl rollout undo rolls back a Deployment"], seed=0),
        make_doc("pods", ["pods restart on failure"], seed=10),
    ]
    core = RetrievalCore(live_settings)
    core.upsert(docs)
    hits = core.search("roll back a deployment", None, 5, SearchMode.SPARSE)
    assert hits[0].doc_id == "deploy"
    core.delete(["deploy"], [])
    assert core.stats()["sparse_entries"] == 1
    core.close()
    restarted = RetrievalCore(live_settings)  # generation matches: no rebuild needed
    assert [h.doc_id for h in restarted.search("pods", None, 5, SearchMode.SPARSE)] == ["pods"]
    restarted.close()
