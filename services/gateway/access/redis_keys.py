"""API keys in Redis, so every gateway replica (and ``docent keys``) sees the same keys.

``docent:keys`` maps key id -> JSON record; ``docent:keyhash`` maps secret hash -> key id.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from docentlib.errors import InvalidInput, NotFound
from services.gateway.access.keys import ApiKey, check_scopes, hash_secret, new_token
from services.runtime.redis import PREFIX, redis_client

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

KEYS = f"{PREFIX}:{{keys}}:records"
BY_HASH = f"{PREFIX}:{{keys}}:by_hash"


def _load(raw: str) -> ApiKey:
    data = json.loads(raw)
    data["scopes"] = tuple(data["scopes"])
    return ApiKey(**data)


class RedisKeyStore:
    """Usage: ``RedisKeyStore(redis.Redis.from_url(url, decode_responses=True))``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RedisKeyStore:
        return cls(redis_client(settings.redis_url, settings.redis_cluster))

    def __init__(self, client: Any) -> None:
        self.redis = client

    def create(
        self, name: str, scopes: list[str], rpm: int | None = None, tpm: int | None = None
    ) -> tuple[ApiKey, str]:
        if not name.strip():
            raise InvalidInput("a key needs a name")
        for label, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and value < 0:
                raise InvalidInput(f"{label} must be >= 0 (0: unlimited), got {value}")
        key_id, token = new_token()
        key = ApiKey(
            key_id, name.strip(), check_scopes(scopes), hash_secret(token), time.time(), None,
            rpm, tpm,
        )  # fmt: skip
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(KEYS, key.id, json.dumps(asdict(key)))
        pipe.hset(BY_HASH, key.hash, key.id)
        pipe.execute()
        return key, token

    def list(self) -> list[ApiKey]:
        keys = [_load(raw) for raw in self.redis.hvals(KEYS)]
        return sorted(keys, key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        raw = self.redis.hget(KEYS, key_id)
        if raw is None:
            raise NotFound(f"API key {key_id} not found")
        key = _load(raw)
        if key.revoked_at is None:
            key = ApiKey(**{**key.__dict__, "revoked_at": time.time()})
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(KEYS, key.id, json.dumps(asdict(key)))
            pipe.hdel(BY_HASH, key.hash)
            pipe.execute()
        return key

    def lookup(self, token: str) -> ApiKey | None:
        key_id = self.redis.hget(BY_HASH, hash_secret(token))
        raw = self.redis.hget(KEYS, key_id) if key_id else None
        key = _load(raw) if raw else None
        return key if key is not None and key.active else None

    def any_active(self) -> bool:
        return bool(self.redis.hlen(BY_HASH))

    def close(self) -> None:
        self.redis.close()
