"""Prometheus metrics conventions and the metrics HTTP server.

Names follow ``docent_<service>_<thing>_<unit>``. Latency buckets are fine enough between 5 ms and
30 s that a p95 computed by ``histogram_quantile`` is accurate to within one bucket width.
"""

from __future__ import annotations

from typing import ClassVar

from prometheus_client import Counter, Histogram, start_http_server

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075,
    0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5,
    3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0,
)  # fmt: skip


class RpcMetrics:
    """Per-RPC latency histogram and error counter for one gRPC service process.

    Use :meth:`for_service`: Prometheus refuses to register the same metric name twice.
    """

    _instances: ClassVar[dict[str, RpcMetrics]] = {}

    @classmethod
    def for_service(cls, service: str) -> RpcMetrics:
        if service not in cls._instances:
            cls._instances[service] = cls(service)
        return cls._instances[service]

    def __init__(self, service: str) -> None:
        self.latency = Histogram(
            f"docent_{service}_rpc_seconds",
            f"Latency of {service} RPCs, from receipt to the last response message.",
            ["method", "code"],
            buckets=LATENCY_BUCKETS,
        )
        self.errors = Counter(
            f"docent_{service}_rpc_errors_total",
            f"{service} RPCs that ended with a non-OK status.",
            ["method", "code"],
        )

        self.retries = Counter(
            f"docent_{service}_rpc_retries_total",
            f"{service} RPC attempts that were a client's retry of an earlier failed attempt "
            "(gRPC's grpc-previous-rpc-attempts header).",
            ["method"],
        )

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one finished RPC."""
        self.latency.labels(method, code).observe(seconds)
        if code != "OK":
            self.errors.labels(method, code).inc()


def serve_metrics(host: str, port: int) -> int:
    """Start the /metrics HTTP server in a daemon thread; return the bound port."""
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)
