"""Targets, round-robin and which RPCs gRPC may retry, on real channels over loopback."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest

from docent.v1 import (
    embedding_pb2,
    generation_pb2,
    generation_pb2_grpc,
    moderation_pb2,
    reranking_pb2,
    reranking_pb2_grpc,
    retrieval_pb2,
)
from docentlib.errors import InvalidInput
from services.gateway.settings import GatewaySettings
from services.runtime import clients
from services.runtime.channels import channel_options, grpc_target, service_config
from services.runtime.clients import (
    DependencyError,
    EmbeddingClient,
    Endpoint,
    GenerationClient,
    RerankingClient,
)
from services.runtime.resilience import RetryPolicy
from services.runtime.settings import load_settings


class TestTarget:
    @pytest.mark.parametrize(
        ("address", "target"),
        [
            ("127.0.0.1:50051", "dns:///127.0.0.1:50051"),
            ("docent-embedding-headless.docent.svc.cluster.local:50051",
             "dns:///docent-embedding-headless.docent.svc.cluster.local:50051"),
            (" localhost:1 ", "dns:///localhost:1"),
            ("127.0.0.1:50051,127.0.0.1:60051", "ipv4:127.0.0.1:50051,127.0.0.1:60051"),
            ("127.0.0.1:1, 127.0.0.2:2", "ipv4:127.0.0.1:1,127.0.0.2:2"),
            ("[::1]:50051,[::1]:60051", "ipv6:[::1]:50051,[::1]:60051"),
            ("dns:///embedding:50051", "dns:///embedding:50051"),
            ("ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.1:1,10.0.0.2:1"),
            ("unix:///run/embedding.sock", "unix:///run/embedding.sock"),
        ],
    )  # fmt: skip
    def test_addresses_become_targets(self, address: str, target: str) -> None:
        assert grpc_target(address) == target

    @pytest.mark.parametrize(
        ("address", "complaint"),
        [
            ("", "empty"),
            ("embedding", "needs a port"),
            ("embedding:http", "needs a port"),
            ("embedding:0", "needs a port"),
            (":50051", "no host"),
            ("a.example:1,b.example:1", "not IP:port"),
            ("127.0.0.1:1,[::1]:1", "mixes"),
            ("::1:5,::2:5", "[ip]:port"),
        ],
    )
    def test_bad_addresses_say_what_is_wrong(self, address: str, complaint: str) -> None:
        with pytest.raises(ValueError, match=complaint.replace("[", r"\[")):
            grpc_target(address)

    async def test_a_client_refuses_a_bad_address_naming_its_dependency(self) -> None:
        with pytest.raises(InvalidInput, match=r"embedding address: .*not IP:port"):
            EmbeddingClient(Endpoint("embedding", "embedding-a:1,embedding-b:1", 1.0))

    def test_a_bad_gateway_address_stops_start_up_naming_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("DOCENT_GATEWAY_RETRIEVAL_ADDRESS", "retrieval-a:1,retrieval-b:1")
        with pytest.raises(SystemExit):
            load_settings(GatewaySettings)
        assert "DOCENT_GATEWAY_RETRIEVAL_ADDRESS" in capsys.readouterr().err


def test_every_rpc_is_named_retryable_or_not_and_streams_never_are() -> None:
    """A new RPC must be classified here, consciously: retried by gRPC, or sent once."""
    modules = {
        clients.EmbeddingClient: embedding_pb2,
        clients.RetrievalClient: retrieval_pb2,
        clients.RerankingClient: reranking_pb2,
        clients.ModerationClient: moderation_pb2,
        clients.GenerationClient: generation_pb2,
    }
    sent_once = {"docent.v1.Generation": {"Generate"}}
    for client, module in modules.items():
        (service,) = module.DESCRIPTOR.services_by_name.values()
        assert client._service == service.full_name
        methods = {m.name: m for m in service.methods}
        assert set(client._idempotent) | sent_once.get(service.full_name, set()) == set(methods)
        for name in client._idempotent:
            assert not methods[name].server_streaming and not methods[name].client_streaming


def test_service_config_is_round_robin_and_retries_only_the_named_methods() -> None:
    config = service_config("docent.v1.Generation", ("CountTokens",), RetryPolicy(2, 0.1, 0.2))
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    (method,) = config["methodConfig"]
    assert method["name"] == [{"service": "docent.v1.Generation", "method": "CountTokens"}]
    assert method["retryPolicy"]["maxAttempts"] == 2
    no_retry = service_config("docent.v1.Generation", ("CountTokens",), RetryPolicy(1))
    assert "methodConfig" not in no_retry
    options = dict(channel_options(config))
    assert json.loads(str(options["grpc.service_config"])) == config


class Tagged(reranking_pb2_grpc.RerankingServicer):
    """Answers with its own tag as model_id, so a client sees which replica served it."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    async def Rerank(self, request, context):
        return reranking_pb2.RerankResponse(scores=[0.0], model_id=self.tag)


class DownGeneration(generation_pb2_grpc.GenerationServicer):
    """Every RPC fails UNAVAILABLE (a replica that is shutting down); counts attempts."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def Generate(self, request, context):
        self.calls["Generate"] += 1
        await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
        yield  # pragma: no cover - makes this a stream handler

    async def CountTokens(self, request, context):
        self.calls["CountTokens"] += 1
        await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")


async def _serve(register) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture
async def two_rerankers() -> AsyncIterator[str]:
    servers = []
    add = reranking_pb2_grpc.add_RerankingServicer_to_server
    for tag in ("a", "b"):
        servicer = Tagged(tag)
        servers.append(await _serve(lambda server, v=servicer: add(v, server)))
    yield ",".join(f"127.0.0.1:{port}" for _, port in servers)
    for server, _ in servers:
        await server.stop(0)


async def test_one_client_spreads_calls_round_robin_over_a_list_of_replicas(two_rerankers) -> None:
    client = RerankingClient(Endpoint("reranking", two_rerankers, 5.0))
    stub = reranking_pb2_grpc.RerankingStub(client.channel)  # the client's own channel

    async def served_by() -> str:
        return (await stub.Rerank(reranking_pb2.RerankRequest(query="q"), timeout=5)).model_id

    warm: set[str] = set()
    for _ in range(100):  # until both connections are up: picks go to READY ones only
        warm.add(await served_by())
        if len(warm) == 2:
            break
    served = Counter([await served_by() for _ in range(40)])
    assert 16 <= served["a"] <= 24 and served["a"] + served["b"] == 40, served  # within 60/40
    await client.close()


async def test_generate_is_sent_once_while_count_tokens_is_retried() -> None:
    servicer = DownGeneration()
    server, port = await _serve(
        lambda s: generation_pb2_grpc.add_GenerationServicer_to_server(servicer, s)
    )
    client = GenerationClient(
        Endpoint("generation", f"127.0.0.1:{port}", 5.0), retry=RetryPolicy(3, 0.01, 0.02)
    )
    with pytest.raises(DependencyError):
        await client.count_tokens([("user", "hi")])
    with pytest.raises(DependencyError) as info:
        async for _ in client.generate([("user", "hi")]):
            pass
    assert info.value.status == "UNAVAILABLE"
    assert servicer.calls == {"CountTokens": 3, "Generate": 1}
    await client.close()
    await server.stop(0)
