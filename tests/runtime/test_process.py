"""A service as its own process: health, metrics port, JSON logs and SIGTERM drain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from services.runtime.clients import Endpoint, ModerationClient, health_status
from services.runtime.context import set_request_id
from tests.conftest import REPO, free_port


async def _wait_serving(address: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await health_status(address) != "SERVING":
        assert time.monotonic() < deadline, f"{address} never became SERVING"
        time.sleep(0.2)


async def test_moderation_process_serves_and_drains(tmp_path) -> None:
    port, metrics_port = free_port(), free_port()
    env = dict(
        os.environ,
        DOCENT_MODERATION_PORT=str(port),
        DOCENT_MODERATION_METRICS_PORT=str(metrics_port),
        DOCENT_HOME=str(tmp_path),
    )
    log_path = tmp_path / "moderation.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.moderation"], cwd=REPO, env=env, stderr=log
        )
    try:
        await _wait_serving(f"127.0.0.1:{port}")
        client = ModerationClient(Endpoint("moderation", f"127.0.0.1:{port}", 5.0))
        set_request_id("e2e-rid-1")
        verdict = await client.check("you stupid fucking idiot")
        set_request_id(None)
        await client.close()
        # The lifecycle is under test here; which detectors fire is tests/moderation's job
        # (the retrained classifier also reads this abuse as an injection: docs/safety.md).
        assert verdict.reason.startswith("flagged: toxicity"), verdict.reason
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert (
            'docent_moderation_rpc_seconds_bucket{code="OK",le="0.005",method="Check"}' in metrics
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("msg") == "serving" for line in lines)
    assert any(line.get("msg") == "stopped" for line in lines)
    assert all(line["service"] == "moderation" for line in lines)
