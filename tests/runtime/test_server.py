"""The shared server bootstrap and interceptor, against a real grpc.aio server on loopback."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import REGISTRY

from docent.v1 import reranking_pb2, reranking_pb2_grpc
from docentlib.errors import InvalidInput
from services.runtime import server as runtime_server
from services.runtime.channels import KEEPALIVE_TIME_MS
from services.runtime.clients import DependencyError, Endpoint, RerankingClient
from services.runtime.context import get_request_id, set_request_id
from services.runtime.settings import ServiceSettings


class ProbeApp(reranking_pb2_grpc.RerankingServicer):
    """A servicer whose behaviour each test steers through the query text."""

    service_names = (reranking_pb2.DESCRIPTOR.services_by_name["Reranking"].full_name,)

    def __init__(self) -> None:
        self.loaded = asyncio.Event()
        self.seen_request_ids: list[str | None] = []
        self.peers: list[str] = []  # the client's address:port, one per connection
        self.closed = False

    def register(self, server: grpc.aio.Server) -> None:
        reranking_pb2_grpc.add_RerankingServicer_to_server(self, server)

    async def load(self) -> bool:
        await self.loaded.wait()
        return True

    async def close(self) -> None:
        self.closed = True

    async def Rerank(self, request, context):
        self.seen_request_ids.append(get_request_id())
        self.peers.append(context.peer())
        if request.query == "invalid":
            raise InvalidInput("query 'invalid' is not acceptable")
        if request.query == "crash":
            raise RuntimeError("secret internal detail")
        if request.query.startswith("sleep"):
            await asyncio.sleep(float(request.query.split()[1]))
        return reranking_pb2.RerankResponse(scores=[1.0] * len(request.passages), model_id="probe")


@pytest.fixture
async def running():
    app = ProbeApp()
    settings = ServiceSettings(service_name="probe", port=0, metrics_port=0)
    srv = await runtime_server.start(settings, app)
    client = RerankingClient(Endpoint("probe", f"127.0.0.1:{srv.port}", 2.0))
    yield app, srv, client
    await client.close()
    await srv.server.stop(0)


async def _health(port: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    return reply.status


async def test_not_serving_until_loaded(running) -> None:
    app, srv, _ = running
    assert await _health(srv.port) == health_pb2.HealthCheckResponse.NOT_SERVING
    app.loaded.set()
    assert await app.load()
    await runtime_server.mark_ready(srv, app)
    assert await _health(srv.port) == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service(running) -> None:
    _, srv, _ = running
    async with grpc.aio.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [r async for r in stub.ServerReflectionInfo(iter([request]))]
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"docent.v1.Reranking", "grpc.health.v1.Health"} <= names


async def test_request_id_travels_in_metadata(running) -> None:
    app, _, client = running
    set_request_id("rid-from-gateway")
    await client.rerank("hello", ["a", "b"])
    set_request_id(None)
    await client.rerank("hello", ["a"])
    assert app.seen_request_ids[0] == "rid-from-gateway"
    assert app.seen_request_ids[1]  # minted by the interceptor when absent


async def test_domain_errors_map_to_status_codes(running) -> None:
    _, _, client = running
    with pytest.raises(InvalidInput, match="not acceptable"):
        await client.rerank("invalid", ["a"])
    with pytest.raises(DependencyError) as info:
        await client.rerank("crash", ["a"])
    assert info.value.status == "INTERNAL"
    assert "secret" not in str(info.value)


async def test_latency_histogram_and_error_counter(running) -> None:
    _, _, client = running
    await client.rerank("hello", ["a"])
    with pytest.raises(InvalidInput):
        await client.rerank("invalid", ["a"])
    ok = REGISTRY.get_sample_value(
        "docent_probe_rpc_seconds_count", {"method": "Rerank", "code": "OK"}
    )
    errors = REGISTRY.get_sample_value(
        "docent_probe_rpc_errors_total", {"method": "Rerank", "code": "INVALID_ARGUMENT"}
    )
    assert ok and ok >= 1
    assert errors and errors >= 1


async def test_deadline_exceeded_names_the_dependency(running) -> None:
    _, srv, _ = running
    client = RerankingClient(Endpoint("probe", f"127.0.0.1:{srv.port}", 0.3))
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(DependencyError, match="probe: deadline exceeded"):
        await client.rerank("sleep 5", ["a"])
    assert loop.time() - start < 1.5
    await client.close()


async def test_stop_drains_in_flight_rpcs(running) -> None:
    app, srv, client = running
    app.loaded.set()
    await runtime_server.mark_ready(srv, app)
    in_flight = asyncio.create_task(client.rerank("sleep 0.5", ["a"]))
    await asyncio.sleep(0.2)
    await runtime_server.stop(srv, app, grace=3.0)
    assert await in_flight == [1.0]  # finished during the grace period
    assert app.closed


@pytest.mark.parametrize(("age_s", "connections"), [(0.3, "several"), (0.0, "one")])
async def test_connections_are_closed_at_max_age_so_clients_reconnect(
    age_s: float, connections: str
) -> None:
    """After max_connection_age the server sends GOAWAY: the client opens a new connection
    (resolving its target again) and no call fails meanwhile."""
    app = ProbeApp()
    settings = ServiceSettings(
        service_name="probe", port=0, metrics_port=0, max_connection_age_s=age_s,
        max_connection_age_grace_s=1.0,
    )  # fmt: skip
    srv = await runtime_server.start(settings, app)
    client = RerankingClient(Endpoint("probe", f"127.0.0.1:{srv.port}", 2.0))
    for _ in range(15):
        assert await client.rerank("sleep 0.05", ["a"]) == [1.0]
        await asyncio.sleep(0.05)
    await client.close()
    await srv.server.stop(0)
    peers = set(app.peers)
    assert len(peers) >= 2 if connections == "several" else len(peers) == 1, app.peers


def test_server_accepts_the_clients_keepalive_pings() -> None:
    options = dict(runtime_server.server_options(ServiceSettings(keepalive_s=45)))
    assert options["grpc.keepalive_time_ms"] == 45_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    # A client pinging more often than the server allows gets GOAWAY "too_many_pings".
    assert options["grpc.http2.min_ping_interval_without_data_ms"] <= KEEPALIVE_TIME_MS
    assert options["grpc.max_connection_age_ms"] == 60_000
    assert options["grpc.max_connection_age_grace_ms"] == 150_000
    no_age = dict(runtime_server.server_options(ServiceSettings(max_connection_age_s=0)))
    assert "grpc.max_connection_age_ms" not in no_age
