"""asyncio gRPC server bootstrap shared by every service.

A service hands over a :class:`ServiceApp` (its servicer). The runtime starts the server with
health (NOT_SERVING until ``load`` says the models are ready) and reflection, serves metrics on a
separate port, and on SIGTERM/SIGINT marks itself NOT_SERVING and drains in-flight RPCs for
``drain_seconds`` before closing the app.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.runtime.interceptors import ServiceInterceptor
from services.runtime.logging import configure_logging
from services.runtime.metrics import RpcMetrics, serve_metrics
from services.runtime.settings import ServiceSettings, load_settings
from services.runtime.tracing import configure_tracing

log = logging.getLogger(__name__)
SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class ServiceApp(Protocol):
    """What a service gives the runtime: its gRPC names, registration, loading and closing."""

    service_names: Sequence[str]

    def register(self, server: grpc.aio.Server) -> None:
        """Add the servicer(s) to ``server``."""

    async def load(self) -> bool:
        """Load models/indexes; True when ready to serve, False to stay NOT_SERVING."""

    async def close(self) -> None:
        """Release resources after the server has drained."""


class RunningServer:
    """A started server: its bound ports and the handles needed to stop it."""

    def __init__(
        self, server: grpc.aio.Server, health_servicer: health.aio.HealthServicer, port: int
    ) -> None:
        self.server = server
        self.health = health_servicer
        self.port = port


def server_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    """Channel arguments of the server: message limits, connection age and keepalive.

    A maximum connection age makes every client reconnect now and then, resolving its target
    again, so replicas added by the autoscaler get traffic and removed ones stop getting it.
    Client pings every 10 s or more are allowed, idle or not (clients ping every 30 s).
    """
    limit = settings.max_message_mb * 1024 * 1024
    options = [
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        ("grpc.keepalive_time_ms", int(settings.keepalive_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_s * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 2),
    ]
    if settings.max_connection_age_s > 0:
        options += [
            ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
            ("grpc.max_connection_age_grace_ms", int(settings.max_connection_age_grace_s * 1000)),
        ]
    return options


async def start(settings: ServiceSettings, app: ServiceApp) -> RunningServer:
    """Start serving ``app`` (NOT_SERVING until loaded); return once the port is bound."""
    metrics = RpcMetrics.for_service(settings.service_name)
    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(metrics)], options=server_options(settings)
    )
    app.register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ["", *app.service_names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection(
        [*app.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(f"{settings.host}:{settings.port}")
    if port == 0:
        raise RuntimeError(f"cannot bind {settings.host}:{settings.port}")
    await server.start()
    metrics_port = serve_metrics(settings.metrics_host, settings.metrics_port)
    log.info(
        "listening",
        extra={"grpc_port": port, "metrics_port": metrics_port, "state": "NOT_SERVING"},
    )
    return RunningServer(server, health_servicer, port)


async def mark_ready(running: RunningServer, app: ServiceApp) -> None:
    """Flip every health entry to SERVING."""
    for name in ["", *app.service_names]:
        await running.health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"state": "SERVING"})


async def stop(running: RunningServer, app: ServiceApp, grace: float) -> None:
    """Refuse new work, drain in-flight RPCs for ``grace`` seconds, then close the app."""
    await running.health.enter_graceful_shutdown()
    log.info("draining", extra={"grace_seconds": grace})
    await running.server.stop(grace)
    await app.close()
    log.info("stopped")


async def serve(settings: ServiceSettings, app: ServiceApp) -> None:
    """Run ``app`` until SIGTERM or SIGINT."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings.service_name, settings.otlp_endpoint)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    running = await start(settings, app)
    loader = asyncio.create_task(app.load())
    done, _ = await asyncio.wait(
        [loader, asyncio.create_task(stopping.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if loader in done:
        if loader.exception() is not None:
            log.error("loading failed; staying NOT_SERVING", exc_info=loader.exception())
        elif loader.result():
            await mark_ready(running, app)
        else:
            log.warning("not ready to serve; staying NOT_SERVING")
        await stopping.wait()
    else:
        loader.cancel()
    await stop(running, app, settings.drain_seconds)


def main(settings_class: type[SettingsT], app_factory: Callable[[SettingsT], ServiceApp]) -> None:
    """Entry point for ``python -m services.<service>``: settings -> app -> server.

    Bad configuration ends the process with a message naming the variable, not a traceback.
    """
    settings = load_settings(settings_class)
    asyncio.run(serve(settings, app_factory(settings)))
