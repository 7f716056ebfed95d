"""Redis clients, plain or cluster, for any component that keeps shared state in Redis.

Keys that must change together share a hash tag (``{...}``), so every multi-key command and
Lua script stays within one slot and works the same on a single server and on a cluster.
"""

from __future__ import annotations

from typing import Any

PREFIX = "docent"


def redis_client(url: str, cluster: bool = False) -> Any:
    """A synchronous redis-py client (thread-safe, pooled) for ``url``."""
    import redis
    from redis.cluster import RedisCluster

    if cluster:
        return RedisCluster.from_url(url, decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True)


def async_redis_client(url: str, cluster: bool = False) -> Any:
    """The asyncio flavour, for per-request work (rate limits) on the event loop."""
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import RedisCluster

    if cluster:
        return RedisCluster.from_url(url, decode_responses=True)
    return aioredis.Redis.from_url(url, decode_responses=True)
