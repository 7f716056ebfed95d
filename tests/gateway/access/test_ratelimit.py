"""Token buckets: the Lua script on a real Redis server, and the in-process twin."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from services.gateway.access.ratelimit import LocalRateLimiter, RedisRateLimiter, Verdict


@pytest.fixture
async def redis_pair(redis_url: str):
    """Two limiters on two connections: as two gateway replicas would hold them."""
    first = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await first.flushdb()
    second = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield RedisRateLimiter(first), RedisRateLimiter(second)
    await first.aclose()
    await second.aclose()


async def test_concurrent_admissions_never_exceed_the_bucket(redis_pair) -> None:
    a, b = redis_pair
    verdicts = await asyncio.gather(
        *(limiter.take("key_race", 10, 0, 1, 0, True) for limiter in (a, b) * 15)
    )
    assert sum(v.allowed for v in verdicts) == 10
    refused = [v for v in verdicts if not v.allowed]
    assert all(0 < v.retry_after_s <= 6.0 for v in refused)  # one request refills in 6 s
    assert refused[0].headers()["Retry-After"] in {str(s) for s in range(1, 7)}


async def test_tokens_charged_on_one_replica_hold_back_the_other(redis_pair) -> None:
    a, b = redis_pair
    assert (await a.take("key_tok", 0, 100, 1, 0, True)).allowed
    await a.take("key_tok", 0, 100, 0, 250, False)  # the answer used 250 tokens: 150 in debt
    refused = await b.take("key_tok", 0, 100, 1, 0, True)
    assert not refused.allowed and refused.tokens_left == pytest.approx(-150, abs=1)
    assert refused.retry_after_s == pytest.approx(151 * 60 / 100, rel=0.01)
    assert refused.headers()["X-RateLimit-Remaining-Tokens"] == "0"


async def test_buckets_refill_with_time(redis_pair) -> None:
    a, _ = redis_pair
    assert (await a.take("key_fill", 600, 0, 600, 0, True)).allowed  # empties it; 10/s back
    assert not (await a.take("key_fill", 600, 0, 1, 0, True)).allowed
    await asyncio.sleep(0.3)  # ~3 requests refilled
    assert (await a.take("key_fill", 600, 0, 1, 0, True)).allowed


async def test_local_limiter_has_the_same_arithmetic() -> None:
    local = LocalRateLimiter()
    verdicts = [await local.take("k", 3, 0, 1, 0, True) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after_s == pytest.approx(20, abs=0.1)
    await local.take("t", 0, 50, 0, 80, False)
    assert not (await local.take("t", 0, 50, 1, 0, True)).allowed


def test_headers_skip_unlimited_kinds_and_round_down() -> None:
    verdict = Verdict(True, 0, 1000, 0.0, 999.6, 0.0)
    headers = verdict.headers()
    assert "X-RateLimit-Limit-Requests" not in headers and "Retry-After" not in headers
    assert headers["X-RateLimit-Remaining-Tokens"] == "999"
    assert headers["X-RateLimit-Reset-Tokens"] == "0s"
