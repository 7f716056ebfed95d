"""A service's real grpc.aio server in the test's process, started the way ``runtime.serve``
starts it, for the servicer tests of every service (tests/<service>/test_servicer.py).

``serve_in_process`` records what a client sees before and after ``load()``: the health status
and the status of one RPC sent before the model is loaded. The metric readers take the
runtime's per-RPC histogram and error counter from the process's Prometheus registry, where
the metrics HTTP server reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from prometheus_client import REGISTRY

from services.runtime import server as runtime_server
from services.runtime.clients import health_status
from services.runtime.server import ServiceApp
from services.runtime.settings import ServiceSettings

Probe = Callable[[grpc.aio.Channel], Awaitable[object]]


@dataclass
class Served:
    """A started server and what was observed while it loaded."""

    address: str
    channel: grpc.aio.Channel  # raw stubs on it see the status codes themselves
    health_before_load: str
    health_after_load: str
    probe_before_load: tuple[grpc.StatusCode, str] | None  # (code, details) of the probe RPC
    load_error: Exception | None  # what load() raised; the server then stays NOT_SERVING


async def rpc_status(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    """The status an RPC ended with: (OK, "") or the code and details of its error."""
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""


@asynccontextmanager
async def serve_in_process(
    settings: ServiceSettings, app: ServiceApp, probe: Probe | None = None
) -> AsyncIterator[Served]:
    """Start ``app`` on a free port (NOT_SERVING), send ``probe``, load, and mark it SERVING
    only when the load says ready, as ``runtime.serve`` does (a load that raises is recorded and
    leaves it NOT_SERVING); stop with the runtime's drain on exit."""
    settings = settings.model_copy(update={"host": "127.0.0.1", "port": 0, "metrics_port": 0})
    running = await runtime_server.start(settings, app)
    address = f"127.0.0.1:{running.port}"
    channel = grpc.aio.insecure_channel(address)
    try:
        before = await health_status(address)
        early = await rpc_status(probe(channel)) if probe is not None else None
        load_error: Exception | None = None
        try:
            ready = await app.load()
        except Exception as exc:
            ready, load_error = False, exc
        if ready:
            await runtime_server.mark_ready(running, app)
        after = await health_status(address)
        yield Served(address, channel, before, after, early, load_error)
    finally:
        await channel.close()
        await runtime_server.stop(running, app, grace=0)


def rpc_count(service: str, method: str, code: str = "OK") -> float:
    """Finished ``method`` RPCs with ``code`` so far (the latency histogram's count)."""
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value(f"docent_{service}_rpc_seconds_count", labels) or 0.0


def error_count(service: str, method: str, code: str) -> float:
    """``method`` RPCs that ended with ``code`` so far (the error counter)."""
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value(f"docent_{service}_rpc_errors_total", labels) or 0.0
