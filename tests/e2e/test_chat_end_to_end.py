"""End to end: real models in separate processes, 100 Kubernetes pages, one streamed answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from docentlib.gateway_client import parse_sse
from tests.conftest import REPO
from tests.e2e.conftest import GRPC_SERVICES, Stack

pytestmark = pytest.mark.e2e

DEPLOYMENT_PAGE = "concepts/workloads/controllers/deployment.md"
QUESTION = "How do I roll back a Deployment to a previous revision?"


@pytest.fixture(scope="module")
def corpus(k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 real pages (the Deployment page among them), linked into a folder of their own."""
    pages = sorted(p.relative_to(k8s_docs).as_posix() for p in k8s_docs.rglob("*.md"))
    workloads = [p for p in pages if p.startswith("concepts/workloads/") and p != DEPLOYMENT_PAGE]
    others = [p for p in pages if p not in workloads and p != DEPLOYMENT_PAGE]
    chosen = [DEPLOYMENT_PAGE, *workloads, *others][:100]
    root = tmp_path_factory.mktemp("corpus")
    for rel in chosen:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(k8s_docs / rel)
    return root


def _docent(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docent_cli.main", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ingested(stack: Stack, corpus: Path) -> dict:
    """Through the ingestion service (IngestPath), as `docent ingest` does by default."""
    result = _docent(
        "ingest", str(corpus), "--json", "--ingestion", stack.grpc_address("ingestion"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ingest_100_pages_then_nothing_to_redo(stack: Stack, corpus: Path, ingested: dict) -> None:
    assert ingested["files"] == 100
    assert ingested["ingested"] == 100 and not ingested["failed"]
    assert ingested["chunks"] > 100
    # The pipeline run in the command's own process sees the same index: nothing to redo.
    again = _docent(
        "ingest", str(corpus), "--json",
        "--embedding", stack.grpc_address("embedding"),
        "--retrieval", stack.grpc_address("retrieval"),
    )  # fmt: skip
    report = json.loads(again.stdout.strip().splitlines()[-1])
    assert report["ingested"] == 0 and report["unchanged"] == 100


def test_streamed_answer_cites_the_deployment_page(stack: Stack, ingested: dict) -> None:
    events, arrivals = [], []
    start = time.monotonic()
    with (
        httpx.Client(timeout=300) as client,
        client.stream("POST", f"{stack.url}/v1/chat", json={"message": QUESTION}) as reply,
    ):
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        for event in parse_sse(reply.iter_lines()):
            events.append(event)
            arrivals.append(time.monotonic() - start)
    kinds = [e.event for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    deltas = [e for e in events if e.event == "delta"]
    # The groundedness guard releases the answer sentence by sentence, as each one is judged.
    assert len(deltas) >= 2, "the answer must arrive in pieces, not at the end"
    first, last = kinds.index("delta"), len(kinds) - 1 - kinds[::-1].index("delta")
    assert arrivals[first] < arrivals[last] < arrivals[-1]
    answer = "".join(e.data["text"] for e in deltas)
    assert answer.strip()
    sources = events[0].data["sources"]
    assert [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    assert any(s["source_path"].endswith(DEPLOYMENT_PAGE) for s in sources), sources
    done = events[-1].data
    assert (
        done["usage"]["completion_tokens"] == len(deltas) or done["usage"]["completion_tokens"] > 0
    )
    assert {"moderation", "embedding", "retrieval", "generation"} <= set(done["timings"])
    assert done["metadata"]["rerank"] == "applied"  # the packaged MiniLM + MaxSim by default
    assert done["citations"], "the answer must cite its sources as [n]"
    assert done["metadata"]["citation_mode"] in ("model", "attributed")
    assert all(f"[{n}]" in answer for n in done["citations"])
    cited = [sources[n - 1]["source_path"] for n in done["citations"]]
    assert any(path.endswith(DEPLOYMENT_PAGE) for path in cited), (answer, cited)


def test_json_answer_and_cli_chat(stack: Stack, ingested: dict) -> None:
    reply = httpx.post(
        f"{stack.url}/v1/chat", json={"message": QUESTION, "stream": False}, timeout=300
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["answer"].strip()
    assert any(s["source_path"].endswith(DEPLOYMENT_PAGE) for s in body["sources"])
    result = _docent("chat", QUESTION, "--url", stack.url, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Sources:" in result.stdout and DEPLOYMENT_PAGE in result.stdout


def test_toxic_message_is_refused(stack: Stack) -> None:
    reply = httpx.post(
        f"{stack.url}/v1/chat",
        json={"message": "you stupid fucking idiot", "stream": False},
        timeout=60,
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["metadata"]["refused"] is True
    assert body["sources"] == []


def test_bad_input_on_the_live_gateway(stack: Stack) -> None:
    empty = httpx.post(f"{stack.url}/v1/chat", json={"message": ""}, timeout=10)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "message"
    huge = httpx.post(f"{stack.url}/v1/chat", json={"message": "x" * 100_000}, timeout=10)
    assert huge.status_code == 422
    missing = httpx.get(f"{stack.url}/v1/nothing-here", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{stack.url}/readyz", timeout=10).status_code == 200


def test_every_service_exports_its_latency_histogram(stack: Stack, ingested: dict) -> None:
    for service in GRPC_SERVICES:
        text = httpx.get(stack.metrics_url(service), timeout=10).text
        assert f"# TYPE docent_{service}_rpc_seconds histogram" in text, service
        if service != "reranking":  # no cross-encoder yet: the gateway never calls it
            assert f"docent_{service}_rpc_seconds_bucket" in text, service
    gateway = httpx.get(f"{stack.url}/metrics", timeout=10).text
    assert "docent_gateway_request_seconds_bucket" in gateway
    assert "docent_gateway_stage_seconds_bucket" in gateway
