"""Start-up of the OpenSearch store: it waits for OpenSearch with backoff, within a bound,
while the service says NOT_SERVING, and serves as soon as OpenSearch answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from docentlib.errors import Unavailable
from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.runtime.clients import health_status
from tests.conftest import REPO, free_port
from tests.retrieval.helpers import DIM
from tests.retrieval.opensearch_double import OpenSearchDouble, wait_until


def settings(url: str, **overrides: object) -> RetrievalSettings:
    values = {"store": "opensearch", "opensearch_hosts": url, "dim": DIM,
              "opensearch_replicas": 0, "opensearch_timeout_s": 1.0,
              "opensearch_max_retries": 0}  # fmt: skip
    return RetrievalSettings(**(values | overrides))


def open_in_thread(s: RetrievalSettings, stop: threading.Event | None = None):
    """Open a core in a thread; returns (thread, outcome list: [core] or [exception])."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(RetrievalCore(s, stop))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_opensearch_coming_up_second_is_waited_for() -> None:
    port = free_port()
    started = time.monotonic()
    thread, outcome = open_in_thread(
        settings(f"http://127.0.0.1:{port}", opensearch_startup_timeout_s=60)
    )
    time.sleep(1.5)  # the retrieval pod is up first; OpenSearch is not listening yet
    assert outcome == []
    double = OpenSearchDouble().start(port=port)
    thread.join(timeout=30)
    waited = time.monotonic() - started
    try:
        (core,) = outcome
        assert isinstance(core, RetrievalCore), core
        assert 1.5 <= waited < 12  # backoff is capped at 8 s between tries
        assert core.stats() == {"documents": 0, "chunks": 0}
        core.close()
    finally:
        double.stop()


def test_a_cluster_that_is_not_ready_yet_is_retried() -> None:
    double = OpenSearchDouble().start()
    not_recovered = "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]"
    double.fail(lambda r: True, status=503, kind="cluster_block_exception",
                reason=not_recovered, times=4)  # fmt: skip
    try:
        core = RetrievalCore(settings(double.url, opensearch_startup_timeout_s=60))
        assert [r.status for r in double.requests[:4]] == [503] * 4
        assert "docent-chunks" in double.indexes
        core.close()
    finally:
        double.stop()


def test_the_wait_is_bounded() -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"gave up after \d+ tries in 2s: .*unreachable"):
        RetrievalCore(settings(f"http://127.0.0.1:{free_port()}", opensearch_startup_timeout_s=2))
    assert time.monotonic() - started < 5


def test_refused_credentials_are_not_waited_for() -> None:
    double = OpenSearchDouble().start()
    double.fail(lambda r: True, status=401, kind="security_exception", reason="unauthorized")
    started = time.monotonic()
    try:
        with pytest.raises(Unavailable, match="USERNAME"):
            RetrievalCore(settings(double.url, opensearch_startup_timeout_s=60))
        assert time.monotonic() - started < 3 and len(double.requests) == 1
    finally:
        double.stop()


def test_shutdown_ends_the_wait() -> None:
    stop = threading.Event()
    thread, outcome = open_in_thread(
        settings(f"http://127.0.0.1:{free_port()}", opensearch_startup_timeout_s=120), stop
    )
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], Unavailable) and "stopped" in str(outcome[0])


async def test_the_service_is_not_serving_until_opensearch_answers(tmp_path) -> None:
    """The real service process: NOT_SERVING while OpenSearch is absent (its readiness probe
    fails, nothing routes to it), SERVING once OpenSearch comes up, without a restart."""
    opensearch_port, grpc_port = free_port(), free_port()
    env = os.environ | {
        "DOCENT_RETRIEVAL_STORE": "opensearch",
        "DOCENT_RETRIEVAL_OPENSEARCH_HOSTS": f"http://127.0.0.1:{opensearch_port}",
        "DOCENT_RETRIEVAL_OPENSEARCH_REPLICAS": "0",
        "DOCENT_RETRIEVAL_OPENSEARCH_TIMEOUT_S": "1",
        "DOCENT_RETRIEVAL_PORT": str(grpc_port),
        "DOCENT_RETRIEVAL_METRICS_PORT": "0",
        "DOCENT_RETRIEVAL_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "retrieval.log").open("wb")  # a file: a pipe nobody reads would fill up
    process = subprocess.Popen([sys.executable, "-m", "services.retrieval"], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    address = f"127.0.0.1:{grpc_port}"
    double = OpenSearchDouble()
    try:
        deadline = time.monotonic() + 60
        while (status := await health_status(address)) == "UNREACHABLE":
            assert time.monotonic() < deadline and process.poll() is None
            await asyncio.sleep(0.2)
        assert status == "NOT_SERVING"
        await asyncio.sleep(2)
        assert await health_status(address) == "NOT_SERVING"  # still waiting, not dead
        double.start(port=opensearch_port)
        came_up = time.monotonic()
        while await health_status(address) != "SERVING":
            assert time.monotonic() - came_up < 15, "did not start serving"
            await asyncio.sleep(0.2)
        assert wait_until(lambda: "docent-chunks-documents" in double.indexes)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        double.stop()
    assert double.rejected == []
    assert b"OpenSearch not ready; retrying" in (tmp_path / "retrieval.log").read_bytes()
