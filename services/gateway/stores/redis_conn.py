"""One Redis client per gateway process, plain or cluster, from settings.

Keys that must change together share a hash tag (``{...}``), so every multi-key command and
Lua script stays within one slot and works the same on a single server and on a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

PREFIX = "docent"


def redis_client(settings: GatewaySettings) -> Any:
    """A synchronous redis-py client (thread-safe, pooled) for ``settings.redis_url``."""
    import redis
    from redis.cluster import RedisCluster

    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, decode_responses=True)
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)


def async_redis_client(settings: GatewaySettings) -> Any:
    """The asyncio flavour, for per-request work (rate limits) on the event loop."""
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import RedisCluster

    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, decode_responses=True)
    return aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
