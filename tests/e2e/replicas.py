"""Several processes of one service on loopback: the local stand-in for a Deployment's pods.

Each replica is ``python -m services.<service>`` with its own gRPC and metrics ports and its own
``DOCENT_HOME`` (so its own data dir) unless told to share one. A :class:`ReplicaSet` gives the
address a client names them all with (``127.0.0.1:a,127.0.0.1:b``) and reads per-replica RPC
counts from each metrics port.

Usage (through the ``replicas`` fixture of tests/e2e/conftest.py)::

    embedding = await replicas.start("embedding", 2, env={"THREADS": "1"})
    client = EmbeddingClient(Endpoint("embedding", embedding.address, 10.0))
    embedding.counts("Embed")  # [OK calls served by replica 0, by replica 1]
    embedding[0].kill()        # kill -9
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.runtime.clients import health_status
from tests.conftest import REPO, free_port

# Services whose settings prefix is not DOCENT_<SERVICE>_.
ENV_PREFIX = {"ingestion": "DOCENT_INGEST_"}


@dataclass
class Replica:
    """One running process of ``service``."""

    service: str
    index: int
    port: int
    metrics_port: int
    home: Path
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metric(self, name: str, labels: Mapping[str, str]) -> float:
        """One sample from this replica's /metrics (0 when absent)."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == dict(labels):
                    return float(sample.value)
        return 0.0

    def rpc_count(self, method: str, code: str = "OK") -> float:
        """RPCs of ``method`` this replica finished with ``code`` (its latency histogram count)."""
        name = f"docent_{self.service}_rpc_seconds_count"
        return self.metric(name, {"method": method, "code": code})

    def retries(self, method: str) -> float:
        """Attempts of ``method`` that reached this replica as a client's retry."""
        name = f"docent_{self.service}_rpc_retries_total"
        return self.metric(name, {"method": method})

    def kill(self) -> None:
        """``kill -9``: no drain, no goodbye; the kernel closes its sockets."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM (drain), then SIGKILL if it outlives ``grace``."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ReplicaSet:
    """The replicas of one service, named together by :attr:`address`."""

    service: str
    replicas: list[Replica] = field(default_factory=list)

    def __getitem__(self, index: int) -> Replica:
        return self.replicas[index]

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    def __len__(self) -> int:
        return len(self.replicas)

    @property
    def address(self) -> str:
        """What an address setting holds to reach all of them: ``127.0.0.1:a,127.0.0.1:b``."""
        return ",".join(r.address for r in self.replicas)

    def counts(self, method: str) -> list[float]:
        """OK calls of ``method`` each replica served so far, in replica order."""
        return [r.rpc_count(method) for r in self.replicas]


class ReplicaLauncher:
    """Starts replicas of any service under ``root`` and stops every one it started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Replica] = []

    async def start(
        self,
        service: str,
        count: int,
        *,
        env: Mapping[str, str] | None = None,
        shared_home: Path | None = None,
        timeout: float = 300.0,
    ) -> ReplicaSet:
        """Start ``count`` processes of ``service`` and wait until each one is SERVING.

        ``env`` keys are settings without the prefix (``{"THREADS": "1"}`` ->
        ``DOCENT_EMBEDDING_THREADS=1``). Each replica gets its own ``DOCENT_HOME`` unless
        ``shared_home`` is given.
        """
        prefix = ENV_PREFIX.get(service, f"DOCENT_{service.upper()}_")
        replicas = ReplicaSet(service)
        for index in range(count):
            home = shared_home or self.root / f"{service}-{index}"
            home.mkdir(parents=True, exist_ok=True)
            port = free_port()
            # The gateway serves /metrics on its HTTP port; the gRPC services on their own.
            metrics_port = port if service == "gateway" else free_port()
            child_env = dict(os.environ, DOCENT_HOME=str(home), PYTHONUNBUFFERED="1")
            child_env[f"{prefix}PORT"] = str(port)
            if service != "gateway":
                child_env[f"{prefix}METRICS_PORT"] = str(metrics_port)
            child_env.update({prefix + key: value for key, value in (env or {}).items()})
            log = self.root / f"{service}-{index}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", f"services.{service}"],
                    cwd=REPO,
                    env=child_env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            replica = Replica(service, index, port, metrics_port, home, log, proc)
            self.started.append(replica)
            replicas.replicas.append(replica)
        for replica in replicas:
            if service == "gateway":
                await _wait_ready(replica, timeout)
            else:
                await _wait_serving(replica, timeout)
        return replicas

    def stop_all(self) -> None:
        for replica in self.started:
            with contextlib.suppress(ProcessLookupError):
                replica.stop()


async def _wait_ready(replica: Replica, timeout: float) -> None:
    """A gateway replica is up when its /readyz answers 200 (its own store answers)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://{replica.address}/readyz")).status_code == 200:
                    return
            if replica.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"gateway replica {replica.index} not ready (exit code "
                    f"{replica.proc.returncode}):\n{replica.log_tail()}"
                )
            await asyncio.sleep(0.3)


async def _wait_serving(replica: Replica, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await health_status(replica.address, timeout=1.0) != "SERVING":
        if replica.proc.poll() is not None:
            raise RuntimeError(
                f"{replica.service} replica {replica.index} exited with {replica.proc.returncode}:"
                f"\n{replica.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{replica.service} replica {replica.index} not SERVING after {timeout:.0f}s:"
                f"\n{replica.log_tail()}"
            )
        await asyncio.sleep(0.3)
