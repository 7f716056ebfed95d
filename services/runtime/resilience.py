"""The retry policy gRPC applies for us, and a circuit breaker per dependency.

Retries are not ours to loop over: :class:`RetryPolicy` describes gRPC's own ``retryPolicy``
(A6 client retries), which the channel's service config applies to idempotent methods only
(``services.runtime.channels``). gRPC waits a random time in ``[0, min(base * 2**(n-1),
max)]`` before retry ``n`` (full jitter), picks a replica afresh for each attempt, and never
goes past the call's deadline.

A dependency that is down should cost a caller one fast error, not a pile of timeouts: the
breaker opens after ``failure_threshold`` consecutive failed calls (each call counted once,
after gRPC's retries) and refuses calls at once until ``reset_after_s`` has passed, then lets
one trial call through (half-open) and closes again on success. docs/architecture.md says why
this breaker is ours rather than a library's.

Usage::

    policy = RetryPolicy(attempts=3, base_delay_s=0.05, max_delay_s=1.0)
    policy.to_grpc()  # {"maxAttempts": 3, "initialBackoff": "0.05s", ...}
    breaker = CircuitBreaker("retrieval", failure_threshold=5, reset_after_s=10.0)
    breaker.before_call()  # raises CircuitOpen while open
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from prometheus_client import Counter, Gauge

# gRPC clamps maxAttempts to 5 (A6); a larger setting would silently mean 5.
MAX_ATTEMPTS = 5

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


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1 = no retry, at most 5); delays grow from ``base_delay_s``, doubling.

    Only UNAVAILABLE is retried: the request did not reach a server that could answer it (a
    replica that went away, a connection that broke), so another try, likely on another
    replica, can succeed.
    """

    attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= MAX_ATTEMPTS:
            raise ValueError(f"attempts must be between 1 and {MAX_ATTEMPTS}, got {self.attempts}")
        if self.base_delay_s <= 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 < base_delay_s <= max_delay_s")

    def to_grpc(self) -> dict[str, Any] | None:
        """The ``retryPolicy`` object of a service config's methodConfig; None when no retry."""
        if self.attempts == 1:
            return None
        return {
            "maxAttempts": self.attempts,
            "initialBackoff": _duration(self.base_delay_s),
            "maxBackoff": _duration(self.max_delay_s),
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }


NO_RETRY = RetryPolicy(attempts=1)


def _duration(seconds: float) -> str:
    """A protobuf Duration in JSON form: ``0.05`` -> ``"0.05s"`` (nanosecond precision)."""
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


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
