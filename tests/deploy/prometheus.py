"""A real Prometheus (Debian package) on loopback: scrape config for the local stack, the
chart's rules loaded, instant queries over its HTTP API."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SCRAPE_SECONDS = 1


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query now; the result vector."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def scalar(self, promql: str) -> float | None:
        """The single sample of ``promql``, or None when the vector is empty."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, timeout: float = 60) -> float:
        """Poll until ``promql`` has a sample; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.scalar(promql)
            if value is not None:
                return value
            time.sleep(SCRAPE_SECONDS)
        raise TimeoutError(f"no sample for {promql} within {timeout}s")


@contextmanager
def running_prometheus(
    workdir: Path, targets: dict[str, str], rules: dict[str, Any], labels: dict[str, str]
) -> Iterator[Prometheus]:
    """Prometheus scraping ``targets`` (job -> host:port) every second with ``labels`` added
    (standing in for what a ServiceMonitor attaches) and evaluating ``rules`` every second."""
    (workdir / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yaml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target], "labels": labels}]}
            for job, target in targets.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError((workdir / "prometheus.log").read_text()[-3000:])
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("prometheus did not become ready")
            time.sleep(0.5)
        yield Prometheus(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
