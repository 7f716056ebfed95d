"""Deadlines, retries with jittered backoff and a circuit breaker for calls to a dependency.

A dependency that is down should cost a caller one fast error, not a pile of timeouts: the
breaker opens after ``failure_threshold`` consecutive failures and refuses calls at once until
``reset_after_s`` has passed, then lets one trial call through (half-open) and closes again on
success. Idempotent calls are retried on transient failures (UNAVAILABLE) with full-jitter
exponential backoff, always within the one deadline of the whole call.

Usage::

    breaker = CircuitBreaker("retrieval", failure_threshold=5, reset_after_s=10.0)
    policy = RetryPolicy(attempts=3, base_delay_s=0.05, max_delay_s=1.0)
    reply = await call_with_resilience(lambda t: stub.Search(req, timeout=t), deadline_s=5.0,
                                       breaker=breaker, policy=policy, translate=translate)
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc
from prometheus_client import Counter, Gauge

from docentlib.errors import DocentError

T = TypeVar("T")

# Codes that say nothing about the request itself: retry (if idempotent) and count as failures.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE})
# Codes that mean the dependency is unhealthy (the breaker counts them); the caller's own
# mistakes (INVALID_ARGUMENT, NOT_FOUND, ...) and cancellations never open the breaker.
UNHEALTHY = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)

RETRIES = Counter(
    "docent_client_retries_total",
    "RPC attempts repeated after a transient failure, by dependency and method.",
    ["dependency", "method"],
)
BREAKER_STATE = Gauge(
    "docent_client_circuit_state",
    "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
    ["dependency"],
)
BREAKER_REJECTED = Counter(
    "docent_client_circuit_rejected_total",
    "Calls refused without being sent because the dependency's breaker was open.",
    ["dependency"],
)


class State(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpen(Exception):
    """Raised by :meth:`CircuitBreaker.before_call` when calls are being refused."""

    def __init__(self, dependency: str, retry_in_s: float) -> None:
        super().__init__(f"circuit open after repeated failures; retrying in {retry_in_s:.1f}s")
        self.dependency = dependency
        self.retry_in_s = retry_in_s


class CircuitBreaker:
    """Consecutive-failure breaker; ``clock`` is injectable so tests need not sleep."""

    def __init__(
        self,
        dependency: str,
        failure_threshold: int = 5,
        reset_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_after_s <= 0:
            raise ValueError(f"reset_after_s must be > 0, got {reset_after_s}")
        self.dependency = dependency
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        BREAKER_STATE.labels(dependency).set(State.CLOSED)

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._clock() - self._opened_at >= self.reset_after_s:
            return State.HALF_OPEN
        return State.OPEN

    def before_call(self) -> None:
        """Let the call through, or raise :class:`CircuitOpen` (one trial when half-open)."""
        state = self.state
        if state is State.CLOSED:
            return
        if state is State.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            BREAKER_STATE.labels(self.dependency).set(State.HALF_OPEN)
            return
        BREAKER_REJECTED.labels(self.dependency).inc()
        assert self._opened_at is not None
        remaining = max(0.0, self.reset_after_s - (self._clock() - self._opened_at))
        raise CircuitOpen(self.dependency, remaining)

    def on_success(self) -> None:
        self._failures, self._opened_at, self._trial_in_flight = 0, None, False
        BREAKER_STATE.labels(self.dependency).set(State.CLOSED)

    def on_failure(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()  # (re)open: a failed trial restarts the wait
            BREAKER_STATE.labels(self.dependency).set(State.OPEN)

    def on_neutral(self) -> None:
        """The call ended without saying anything about health (bad input, cancelled)."""
        self._trial_in_flight = False


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1 = no retry); delays grow from ``base_delay_s``, full jitter."""

    attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Sleep before retry number ``retry`` (1-based): uniform in [0, base * 2**(retry-1)]."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        return (rng or random).uniform(0.0, ceiling)


NO_RETRY = RetryPolicy(attempts=1)


async def call_with_resilience(
    attempt: Callable[[float], Awaitable[T]],
    *,
    deadline_s: float,
    breaker: CircuitBreaker,
    policy: RetryPolicy,
    translate: Callable[[grpc.aio.AioRpcError], DocentError],
    method: str = "",
) -> T:
    """Run ``attempt(timeout)`` until it succeeds, fails for good, or ``deadline_s`` runs out.

    Each attempt gets what is left of the deadline as its gRPC timeout, so retries never
    stretch a call beyond it. gRPC errors come back translated by ``translate``.
    """
    deadline = time.monotonic() + deadline_s
    tries = 0
    while True:
        breaker.before_call()
        tries += 1
        remaining = deadline - time.monotonic()
        try:
            result = await attempt(max(remaining, 0.001))
        except grpc.aio.AioRpcError as err:
            code = err.code()
            if code in UNHEALTHY:
                breaker.on_failure()
            else:
                breaker.on_neutral()
            pause = policy.delay(tries) if tries < policy.attempts else None
            can_retry = code in TRANSIENT and pause is not None
            if can_retry and time.monotonic() + pause < deadline and breaker.state is State.CLOSED:
                RETRIES.labels(breaker.dependency, method).inc()
                await asyncio.sleep(pause)
                continue
            raise translate(err) from None
        except BaseException:
            breaker.on_neutral()
            raise
        breaker.on_success()
        return result
