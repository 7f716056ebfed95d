"""gRPC's retry policy, deadlines and the circuit breaker, through real gRPC calls on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import REGISTRY

from docent.v1 import reranking_pb2, reranking_pb2_grpc
from docentlib.errors import InvalidInput
from services.runtime.clients import DependencyError, Endpoint, RerankingClient
from services.runtime.interceptors import ServiceInterceptor
from services.runtime.metrics import RpcMetrics
from services.runtime.resilience import CircuitBreaker, CircuitOpen, RetryPolicy, State
from tests.conftest import free_port


class Flaky(reranking_pb2_grpc.RerankingServicer):
    """Fails the first ``failures`` calls with ``code``, then answers; can also hang."""

    def __init__(self) -> None:
        self.failures = 0
        self.code = grpc.StatusCode.UNAVAILABLE
        self.delay = 0.0
        self.calls = 0
        self.previous_attempts: list[str | None] = []  # gRPC's header, per attempt received

    async def Rerank(self, request, context):
        self.calls += 1
        metadata = dict(context.invocation_metadata())
        self.previous_attempts.append(metadata.get("grpc-previous-rpc-attempts"))
        await asyncio.sleep(self.delay)
        if self.failures > 0:
            self.failures -= 1
            await context.abort(self.code, "scripted failure")
        return reranking_pb2.RerankResponse(scores=[1.0] * len(request.passages), model_id="x")


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[Flaky, str]]:
    servicer = Flaky()
    server = grpc.aio.server(interceptors=[ServiceInterceptor(RpcMetrics.for_service("flaky"))])
    reranking_pb2_grpc.add_RerankingServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _retries(method: str = "Rerank") -> float:
    """Attempts the server saw arrive as retries (its interceptor reads gRPC's header)."""
    value = REGISTRY.get_sample_value("docent_flaky_rpc_retries_total", {"method": method})
    return value or 0.0


class TestRetryPolicy:
    def test_is_grpcs_retry_policy_on_unavailable_with_doubling_jittered_backoff(self) -> None:
        policy = RetryPolicy(attempts=4, base_delay_s=0.05, max_delay_s=1.5)
        assert policy.to_grpc() == {
            "maxAttempts": 4,
            "initialBackoff": "0.05s",
            "maxBackoff": "1.5s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
        assert RetryPolicy(attempts=1).to_grpc() is None
        assert RetryPolicy(3, 0.000000001, 2).to_grpc()["initialBackoff"] == "0.000000001s"

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"attempts": 0},
            {"attempts": 6},  # gRPC would quietly cap it at 5
            {"base_delay_s": 0},  # gRPC refuses a zero initialBackoff
            {"base_delay_s": 2, "max_delay_s": 1},
        ],
    )
    def test_invalid_values_are_refused(self, kwargs: dict) -> None:
        with pytest.raises(ValueError):
            RetryPolicy(**kwargs)


class TestCircuitBreaker:
    def test_opens_after_threshold_then_half_opens_one_trial(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker("dep", failure_threshold=3, reset_after_s=10, clock=clock)
        for _ in range(2):
            breaker.before_call()
            breaker.on_failure()
        assert breaker.state is State.CLOSED
        breaker.before_call()
        breaker.on_failure()
        assert breaker.state is State.OPEN
        with pytest.raises(CircuitOpen):
            breaker.before_call()
        clock.now = 10.0
        assert breaker.state is State.HALF_OPEN
        breaker.before_call()  # the one trial
        with pytest.raises(CircuitOpen):
            breaker.before_call()  # a second caller waits for the trial's outcome
        breaker.on_failure()  # the trial failed: open again for a full period
        clock.now = 15.0
        assert breaker.state is State.OPEN
        clock.now = 20.0
        breaker.before_call()
        breaker.on_success()
        assert breaker.state is State.CLOSED
        breaker.before_call()

    def test_success_resets_the_count(self) -> None:
        breaker = CircuitBreaker("dep", failure_threshold=2, reset_after_s=1)
        breaker.on_failure()
        breaker.on_success()
        breaker.on_failure()
        assert breaker.state is State.CLOSED

    @pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"reset_after_s": 0}])
    def test_invalid_values_are_refused(self, kwargs: dict) -> None:
        with pytest.raises(ValueError):
            CircuitBreaker("dep", **kwargs)


async def test_transient_failures_are_retried_by_grpc_within_the_deadline(flaky) -> None:
    servicer, address = flaky
    servicer.failures = 2
    client = RerankingClient(Endpoint("reranking", address, 5.0), retry=RetryPolicy(3, 0.01, 0.05))
    before = _retries()
    assert await client.rerank("q", ["a", "b"]) == [1.0, 1.0]
    assert servicer.calls == 3
    # gRPC's own retry machinery made the attempts: it numbers them in a header.
    assert servicer.previous_attempts == [None, "1", "2"]
    assert _retries() - before == 2
    assert client.breaker.state is State.CLOSED
    await client.close()


async def test_retries_stop_at_the_policys_attempts(flaky) -> None:
    servicer, address = flaky
    servicer.failures = 100
    client = RerankingClient(Endpoint("reranking", address, 5.0), retry=RetryPolicy(4, 0.01, 0.02))
    with pytest.raises(DependencyError) as info:
        await client.rerank("q", ["a"])
    assert info.value.status == "UNAVAILABLE" and info.value.dependency == "reranking"
    assert servicer.calls == 4
    await client.close()


async def test_caller_errors_are_not_retried_and_do_not_open_the_breaker(flaky) -> None:
    servicer, address = flaky
    servicer.failures, servicer.code = 5, grpc.StatusCode.INVALID_ARGUMENT
    breaker = CircuitBreaker("reranking", failure_threshold=1, reset_after_s=60)
    client = RerankingClient(Endpoint("reranking", address, 5.0), breaker=breaker)
    with pytest.raises(InvalidInput):
        await client.rerank("q", ["a"])
    assert servicer.calls == 1
    assert breaker.state is State.CLOSED
    await client.close()


async def test_retries_never_outlast_the_deadline(flaky) -> None:
    servicer, address = flaky
    servicer.delay, servicer.failures = 0.3, 100  # slow, then UNAVAILABLE: worth retrying
    policy = RetryPolicy(attempts=5, base_delay_s=0.01, max_delay_s=0.02)
    client = RerankingClient(Endpoint("reranking", address, 0.5), retry=policy)
    start = time.monotonic()
    with pytest.raises(DependencyError) as info:
        await client.rerank("q", ["a"])
    assert time.monotonic() - start < 1.0
    assert info.value.status == "DEADLINE_EXCEEDED"
    await client.close()


async def test_open_breaker_fails_fast_without_calling(flaky) -> None:
    servicer, address = flaky
    servicer.failures = 100
    breaker = CircuitBreaker("reranking", failure_threshold=2, reset_after_s=0.3)
    client = RerankingClient(
        Endpoint("reranking", address, 5.0), retry=RetryPolicy(attempts=1), breaker=breaker
    )
    for _ in range(2):
        with pytest.raises(DependencyError):
            await client.rerank("q", ["a"])
    calls = servicer.calls
    with pytest.raises(DependencyError) as info:
        await client.rerank("q", ["a"])
    assert info.value.status == "CIRCUIT_OPEN" and info.value.dependency == "reranking"
    assert servicer.calls == calls, "an open breaker must not send the call"
    servicer.failures = 0
    await asyncio.sleep(0.35)
    assert await client.rerank("q", ["a"]) == [1.0]  # half-open trial succeeds: closed again
    assert breaker.state is State.CLOSED
    await client.close()


async def test_unreachable_dependency_opens_its_breaker() -> None:
    breaker = CircuitBreaker("reranking", failure_threshold=3, reset_after_s=60)
    client = RerankingClient(
        Endpoint("reranking", f"127.0.0.1:{free_port()}", 2.0),
        retry=RetryPolicy(3, 0.01, 0.02),
        breaker=breaker,
    )
    start = time.monotonic()
    for _ in range(3):  # the breaker counts calls, each after gRPC's retries
        assert breaker.state is State.CLOSED
        with pytest.raises(DependencyError) as info:
            await client.rerank("q", ["a"])
        assert info.value.status == "UNAVAILABLE"
    assert breaker.state is State.OPEN
    assert time.monotonic() - start < 2.0, "a refused connection fails fast, retries included"
    with pytest.raises(DependencyError) as info:
        await client.rerank("q", ["a"])
    assert info.value.status == "CIRCUIT_OPEN"
    await client.close()
