"""Live: a real Prometheus scrapes the locally running stack, loads the chart's recording
rules, and the exact query the gateway's autoscaler runs agrees with the p95 the client
measured, within the histogram's bucket resolution."""

from __future__ import annotations

import bisect
import math
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.runtime.metrics import LATENCY_BUCKETS
from tests.conftest import REPO
from tests.deploy.chart import NAMESPACE, by_kind, component, render
from tests.deploy.prometheus import PROMETHEUS, SCRAPE_SECONDS, running_prometheus
from tests.e2e.conftest import GRPC_SERVICES, Stack

# The session-scoped `docent up` of the end-to-end suite, re-exported as this module's fixture.
from tests.e2e.conftest import stack as stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="no prometheus: make system-deps"),
]

QUESTIONS = (
    "How do I roll back a Deployment?",
    "What is a Pod?",
    "How does a Service find its Pods?",
    "What does a ReplicaSet do?",
)
MAX_TOKENS = (2, 6, 16)  # answers of different lengths spread the latencies over buckets
MAX_REQUESTS = 40
MIN_REQUESTS = 10
TRAFFIC_SECONDS = 180.0  # no new request after this; on an idle machine 40 take about a minute
# The rules are rendered with a 10m rate window (the chart's default is 2m) so that slow shared
# CI machines still have the pre-traffic sample inside it: the window says how far back the
# rule looks; the autoscaler's query (the recording rule's name and labels) is the same string.
RATE_WINDOW = "10m"
CHAT_COUNT = f'docent_gateway_request_seconds_count{{route="/v1/chat",namespace="{NAMESPACE}"}}'


def client_p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile of what the client measured."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def bucket_width(value: float) -> float:
    """Width of the histogram bucket that holds ``value``: the resolution of any p95 the
    histogram can give near it."""
    i = bisect.bisect_left(LATENCY_BUCKETS, value)
    upper = LATENCY_BUCKETS[min(i, len(LATENCY_BUCKETS) - 1)]
    lower = LATENCY_BUCKETS[i - 1] if i > 0 else 0.0
    return upper - lower


@pytest.fixture(scope="module")
def ingested(stack: Stack, k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Eight real pages, so that every chat runs the whole pipeline over real passages."""
    corpus = tmp_path_factory.mktemp("p95-corpus")
    for page in sorted(k8s_docs.glob("concepts/workloads/controllers/*.md"))[:8]:
        (corpus / page.name).symlink_to(page)
    result = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "ingest", str(corpus),
         "--embedding", stack.grpc_address("embedding"),
         "--retrieval", stack.grpc_address("retrieval")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_autoscaler_query_matches_client_p95(stack: Stack, ingested: None, tmp_path: Path) -> None:
    objects = render({"monitoring": {"rules": {"rateWindow": RATE_WINDOW}}})
    (rule,) = by_kind(objects, "PrometheusRule")
    scaled = {component(o): o for o in by_kind(objects, "ScaledObject")}
    query = scaled["gateway"]["spec"]["triggers"][0]["metadata"]["query"]
    ttft_query = scaled["generation"]["spec"]["triggers"][0]["metadata"]["query"]
    targets = {"gateway": f"127.0.0.1:{stack.gateway_port}"}
    for service in GRPC_SERVICES:
        targets[service] = f"127.0.0.1:{stack.metrics_base + GRPC_SERVICES.index(service)}"

    with (
        running_prometheus(
            tmp_path, targets, {"groups": rule["spec"]["groups"]}, {"namespace": NAMESPACE}
        ) as prom,
        httpx.Client(base_url=stack.url, timeout=300) as client,
    ):
        # Warm-up: the chat series must exist in Prometheus before the measured traffic, or
        # rate() would miss the requests made before its first sample.
        warm = client.post("/v1/chat", json={"message": "hi", "stream": False, "max_tokens": 4})
        assert warm.status_code == 200, warm.text
        prom.wait_for(CHAT_COUNT)
        time.sleep(3 * SCRAPE_SECONDS)

        latencies: list[float] = []
        start = time.monotonic()
        while len(latencies) < MAX_REQUESTS and time.monotonic() - start < TRAFFIC_SECONDS:
            i = len(latencies)
            body = {
                "message": QUESTIONS[i % len(QUESTIONS)],
                "stream": False,
                "max_tokens": MAX_TOKENS[i % len(MAX_TOKENS)],
            }
            t0 = time.perf_counter()
            response = client.post("/v1/chat", json=body)
            latencies.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
        assert len(latencies) >= MIN_REQUESTS, f"only {len(latencies)} requests: {latencies}"
        assert time.monotonic() - start < 540, "traffic outlasted the rate window"
        # Let the last requests be scraped and the rules evaluate on them.
        time.sleep(4 * SCRAPE_SECONDS)
        served = prom.scalar(f"sum(increase({CHAT_COUNT}[{RATE_WINDOW}]))")
        autoscaler_p95 = prom.scalar(query)
        ttft_p95 = prom.scalar(ttft_query)

    measured = client_p95(latencies)
    resolution = bucket_width(measured)
    print(
        f"\nrequests={len(latencies)} client_p95={measured:.3f}s "
        f"autoscaler_p95={autoscaler_p95:.3f}s bucket_width={resolution:.3f}s "
        f"ttft_p95={ttft_p95} increase_in_window={served:.1f}"
    )
    assert autoscaler_p95 is not None, f"{query} returned nothing"
    # The rate window saw the measured requests (rate() extrapolates, hence the tolerance).
    assert served == pytest.approx(len(latencies), rel=0.25)
    assert abs(autoscaler_p95 - measured) <= resolution, (autoscaler_p95, measured, resolution)
    # Generation's autoscaler series is live too: first tokens come before whole answers.
    assert ttft_p95 is not None and 0 < ttft_p95 <= autoscaler_p95
