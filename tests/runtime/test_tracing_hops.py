"""One trace across processes: the gateway's spans and the moderation server's gRPC span.

A real OTLP/gRPC receiver (the collector's TraceService) runs in the test on loopback; the
gateway and the moderation service run as their own processes with OTLP endpoints set, exactly
as they would point at an OpenTelemetry collector in a cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent import futures

import grpc
import httpx
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from services.runtime.clients import health_status
from tests.conftest import REPO, free_port
from tests.gateway.fakes import Script, start_fake


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps (service.name, span name, trace id, kind) of every exported span."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, int]] = []

    def Export(self, request, context):
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        (attrs.get("service.name", ""), span.name, span.trace_id.hex(), span.kind)
                    )
        return trace_service_pb2.ExportTraceServiceResponse()


def _start(module: str, env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env=env, stderr=log)


async def test_trace_crosses_the_grpc_hop(tmp_path) -> None:
    receiver = Receiver()
    collector = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, collector)
    otlp_port = collector.add_insecure_port("127.0.0.1:0")
    collector.start()
    moderation_port, gateway_port = free_port(), free_port()
    # The prompt is counted by the generation service first: a scripted one answers that.
    generation, generation_address = await start_fake(Script(), ("generation",))
    base = dict(os.environ, DOCENT_HOME=str(tmp_path), OTEL_BSP_SCHEDULE_DELAY="100")
    moderation_env = dict(
        base,
        DOCENT_MODERATION_PORT=str(moderation_port),
        DOCENT_MODERATION_METRICS_PORT=str(free_port()),
        DOCENT_MODERATION_OTLP_ENDPOINT=f"127.0.0.1:{otlp_port}",
    )
    gateway_env = dict(
        base,
        DOCENT_GATEWAY_PORT=str(gateway_port),
        DOCENT_GATEWAY_MODERATION_ADDRESS=f"127.0.0.1:{moderation_port}",
        DOCENT_GATEWAY_GENERATION_ADDRESS=generation_address,
        DOCENT_GATEWAY_OTLP_ENDPOINT=f"127.0.0.1:{otlp_port}",
    )
    with open(tmp_path / "procs.log", "wb") as log:
        procs = [
            _start("services.moderation", moderation_env, log),
            _start("services.gateway", gateway_env, log),
        ]
    try:
        deadline = time.monotonic() + 60
        while await health_status(f"127.0.0.1:{moderation_port}") != "SERVING":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{gateway_port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        # A flagged message is answered after the prompt count and the moderation hop alone.
        async with httpx.AsyncClient(timeout=30) as client:  # the fake shares this event loop
            reply = await client.post(
                f"http://127.0.0.1:{gateway_port}/v1/chat",
                json={"message": "you stupid fucking idiot", "stream": False},
            )
        assert reply.status_code == 200 and reply.json()["metadata"]["refused"]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)  # flushes the span processors
        for proc in procs:
            proc.wait(timeout=30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        collector.stop(0)
        await generation.stop(0)
    by_service: dict[str, set[str]] = {}
    for service, _name, trace_id, _kind in receiver.spans:
        by_service.setdefault(service, set()).add(trace_id)
    assert "docent-gateway" in by_service and "docent-moderation" in by_service, receiver.spans
    shared = by_service["docent-gateway"] & by_service["docent-moderation"]
    assert shared, f"no trace spans both processes: {receiver.spans}"
    names = {name for service, name, trace_id, _ in receiver.spans if trace_id in shared}
    assert any("Moderation/Check" in name for name in names), names
