"""Per-key token buckets: requests per minute and tokens per minute.

A request is admitted when the request bucket holds one request and the token bucket is not in
debt; the tokens it used are charged afterwards (they are only known then), which may push the
bucket below zero and hold back the key's next requests until it refills. Each bucket refills
continuously at ``limit / 60`` per second up to ``limit``.

With Redis the check-and-take is one Lua script (atomic, with Redis's own clock), so every
gateway replica draws from the same budget; without Redis the same arithmetic runs in-process.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docentlib.registry import Registry
from services.runtime.redis import PREFIX, async_redis_client

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

# KEYS: request bucket, token bucket. ARGV: rpm, tpm, requests to take, tokens to take, admit.
# Returns {allowed, requests left, tokens left, retry-after seconds} (numbers as strings).
LUA_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function level(key, cap)
  local v = redis.call('HMGET', key, 'level', 'ts')
  if v[1] == false then return cap end
  return math.min(cap, tonumber(v[1]) + (now - tonumber(v[2])) * cap / 60)
end
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local take_r, take_t, admit = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local req, tok = level(KEYS[1], rpm), level(KEYS[2], tpm)
local wait = 0
if admit then
  if rpm > 0 and req < take_r then wait = math.max(wait, (take_r - req) * 60 / rpm) end
  if tpm > 0 and tok < 1 then wait = math.max(wait, (1 - tok) * 60 / tpm) end
end
if wait > 0 then return {0, tostring(req), tostring(tok), tostring(wait)} end
if rpm > 0 then
  req = req - take_r
  redis.call('HSET', KEYS[1], 'level', tostring(req), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[1], 120)
end
if tpm > 0 then
  tok = tok - take_t
  redis.call('HSET', KEYS[2], 'level', tostring(tok), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[2], 120 + math.ceil(math.max(0, -tok) * 60 / tpm))
end
return {1, tostring(req), tostring(tok), '0'}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rpm: int
    tpm: int
    requests_left: float
    tokens_left: float
    retry_after_s: float

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` (and ``Retry-After`` when refused); a limit of 0 is not reported."""
        out: dict[str, str] = {}
        for kind, limit, left in (
            ("Requests", self.rpm, self.requests_left),
            ("Tokens", self.tpm, self.tokens_left),
        ):
            if limit > 0:
                out[f"X-RateLimit-Limit-{kind}"] = str(limit)
                out[f"X-RateLimit-Remaining-{kind}"] = str(max(0, math.floor(left)))
                full_in = (limit - left) * 60 / limit
                out[f"X-RateLimit-Reset-{kind}"] = f"{max(0.0, full_in):.0f}s"
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return out


class RateLimiter(Protocol):
    async def take(
        self, key_id: str, rpm: int, tpm: int, requests: int, tokens: int, admit: bool
    ) -> Verdict:
        """Admit (``admit=True``: refuse if empty) or just charge usage to ``key_id``."""
        ...

    async def close(self) -> None: ...


class RedisRateLimiter:
    """Usage: ``await RedisRateLimiter(redis.asyncio.Redis()).take("key_1", 60, 0, 1, 0, True)``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RedisRateLimiter:
        return cls(async_redis_client(settings.redis_url, settings.redis_cluster))

    def __init__(self, client: Any) -> None:
        self.redis = client
        self._script = client.register_script(LUA_TAKE)

    async def take(
        self, key_id: str, rpm: int, tpm: int, requests: int, tokens: int, admit: bool
    ) -> Verdict:
        keys = [f"{PREFIX}:rl:{{{key_id}}}:requests", f"{PREFIX}:rl:{{{key_id}}}:tokens"]
        args = [rpm, tpm, requests, tokens, "1" if admit else "0"]
        ok, req, tok, wait = await self._script(keys=keys, args=args)
        return Verdict(bool(int(ok)), rpm, tpm, float(req), float(tok), float(wait))

    async def close(self) -> None:
        await self.redis.aclose()


class LocalRateLimiter:
    """The same buckets in this process only (the SQLite, single-replica default)."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> LocalRateLimiter:
        return cls()

    def __init__(self) -> None:
        self._levels: dict[str, tuple[float, float]] = {}
        self._lock = asyncio.Lock()

    def _level(self, key: str, cap: int, now: float) -> float:
        level, ts = self._levels.get(key, (float(cap), now))
        return min(float(cap), level + (now - ts) * cap / 60)

    async def take(
        self, key_id: str, rpm: int, tpm: int, requests: int, tokens: int, admit: bool
    ) -> Verdict:
        async with self._lock:
            now = time.monotonic()
            req = self._level(f"{key_id}:r", rpm, now)
            tok = self._level(f"{key_id}:t", tpm, now)
            wait = 0.0
            if admit and rpm > 0 and req < requests:
                wait = (requests - req) * 60 / rpm
            if admit and tpm > 0 and tok < 1:
                wait = max(wait, (1 - tok) * 60 / tpm)
            if wait > 0:
                return Verdict(False, rpm, tpm, req, tok, wait)
            if rpm > 0:
                req -= requests
                self._levels[f"{key_id}:r"] = (req, now)
            if tpm > 0:
                tok -= tokens
                self._levels[f"{key_id}:t"] = (tok, now)
            return Verdict(True, rpm, tpm, req, tok, 0.0)

    async def close(self) -> None:
        self._levels.clear()


class RateLimitHeadersMiddleware:
    """Adds the ``X-RateLimit-*`` headers an admission left in ``request.state`` to the response.

    Plain ASGI, so it works for streamed responses and for routes that return a Response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: dict[str, str] = scope.get("state", {}).get("ratelimit_headers") or {}
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(
                        (k.lower().encode(), v.encode())
                        for k, v in extra.items()
                        if k.lower().encode() not in present
                    ),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


RATE_LIMITERS: Registry[Callable[[GatewaySettings], RateLimiter]] = Registry(
    "rate limiter",
    {
        "sqlite": "services.gateway.access.ratelimit:LocalRateLimiter.from_settings",
        "redis": "services.gateway.access.ratelimit:RedisRateLimiter.from_settings",
    },
)
