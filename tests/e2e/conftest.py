"""The whole stack, started once per session with the people's own command: ``docent up``."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.replicas import ReplicaLauncher

GRPC_SERVICES = ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion")


def _free_range(count: int, start: int) -> int:
    """The first port >= ``start`` with ``count`` consecutive free ports on 127.0.0.1."""
    port = start
    while port < 65000:
        socks = []
        try:
            for i in range(count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port + i))
            return port
        except OSError:
            port += count
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port range")


@dataclass(frozen=True)
class Stack:
    home: Path
    grpc_base: int
    metrics_base: int
    gateway_port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def grpc_address(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_base + GRPC_SERVICES.index(service)}"

    def metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.metrics_base + GRPC_SERVICES.index(service)}/metrics"


@contextmanager
def running_stack(home: Path, ingest: Path | None = None) -> Iterator[Stack]:
    """``docent up`` (``--ingest PATH`` like ``make run``) on free ports; SIGINT on exit."""
    grpc_base = _free_range(len(GRPC_SERVICES), 41051)
    metrics_base = _free_range(len(GRPC_SERVICES), grpc_base + 100)
    gateway_port = _free_range(1, metrics_base + 100)
    log = home / "docent-up.log"
    env = dict(os.environ, DOCENT_GATEWAY_REQUEST_TIMEOUT_S="60")
    cmd = [
        sys.executable, "-m", "docent_cli.main", "up",
        "--home", str(home),
        "--grpc-base-port", str(grpc_base),
        "--metrics-base-port", str(metrics_base),
        "--gateway-port", str(gateway_port),
        "--timeout", "600",
    ]  # fmt: skip
    if ingest is not None:
        cmd += ["--ingest", str(ingest)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900
    while "Docent is ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            logs = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                for p in sorted((home / "logs").glob("*.log"))
            )
            pytest.fail(f"docent up failed:\n{log.read_text()}\n{logs}")
        time.sleep(1)
    yield Stack(home, grpc_base, metrics_base, gateway_port, log)
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert code == 0, log.read_text()
    assert "stopped" in log.read_text()


@contextmanager
def gateway_process(
    stack: Stack, data_dir: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Another gateway process on the stack's services with a data folder (keys,
    conversations, review store) of its own: a test that changes what the gateway stores
    leaves the session's gateway as other tests expect it. ``env`` overrides settings (e.g.
    another generation address). Yields its base URL."""
    from tests.conftest import free_port

    port = free_port()
    env = {
        **os.environ,
        **{f"DOCENT_GATEWAY_{s.upper()}_ADDRESS": stack.grpc_address(s) for s in GRPC_SERVICES},
        "DOCENT_GATEWAY_PORT": str(port),
        "DOCENT_GATEWAY_DATA_DIR": str(data_dir),
        "DOCENT_GATEWAY_REQUEST_TIMEOUT_S": "60",
        "DOCENT_GATEWAY_GENERATION_TIMEOUT_S": "300",  # a shared CPU can be slow
        **(env or {}),
    }
    log = data_dir / "gateway.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def generation_process(stack: Stack, home: Path, adapters: dict[str, Path]) -> Iterator[str]:
    """A generation process serving ``adapters`` by name on the packaged model (converted in
    the stack's cache), for tests that choose the answering adapter. Yields its address."""
    import json

    from services.runtime.clients import health_status
    from tests.conftest import free_port

    grpc_port = free_port()
    env = {
        **os.environ,
        "DOCENT_GENERATION_PORT": str(grpc_port),
        "DOCENT_GENERATION_METRICS_PORT": str(free_port()),
        "DOCENT_GENERATION_DATA_DIR": str(home / "generation"),
        "DOCENT_GENERATION_MODEL_CACHE_DIR": str(stack.home / "generation" / "models"),
        "DOCENT_GENERATION_LORA_ADAPTERS": json.dumps({k: str(v) for k, v in adapters.items()}),
    }
    log = home / "generation.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.generation"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    address = f"127.0.0.1:{grpc_port}"
    try:
        deadline = time.monotonic() + 600
        while asyncio.run(health_status(address, timeout=2.0)) != "SERVING":
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"generation not SERVING:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gateway exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("gateway did not become healthy")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack-home")) as started:
        yield started


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaLauncher]:
    """Start N processes of any service (``await replicas.start("retrieval", 2)``); all of
    them are stopped (SIGTERM, then SIGKILL) when the test ends."""
    launcher = ReplicaLauncher(tmp_path)
    yield launcher
    launcher.stop_all()
