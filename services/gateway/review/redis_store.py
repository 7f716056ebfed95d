"""Review store in Redis, shared by every gateway replica.

Layout (one hash tag, so both keys live in one cluster slot and change in one transaction)::

    docent:review:{review}:items    hash: item id -> JSON item
    docent:review:{review}:ratings  hash: "<item id>|<rater>" -> JSON rating

A review is a few hundred items, so reading whole hashes is cheap; nothing expires.
"""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from services.gateway.review.store import Rating, ReviewItem, not_found
from services.runtime.redis import PREFIX, redis_client

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings


class RedisReviewStore:
    """Usage: ``RedisReviewStore(redis.Redis.from_url(url, decode_responses=True))``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RedisReviewStore:
        return cls(redis_client(settings.redis_url, settings.redis_cluster))

    def __init__(self, client: Any, namespace: str = "review") -> None:
        self.redis = client
        self._items = f"{PREFIX}:review:{{{namespace}}}:items"
        self._ratings = f"{PREFIX}:review:{{{namespace}}}:ratings"

    def add_items(self, items: builtins.list[ReviewItem]) -> builtins.list[ReviewItem]:
        if not items:
            return []
        pipe = self.redis.pipeline(transaction=True)
        for item in items:
            pipe.hsetnx(self._items, item.id, json.dumps(asdict(item), ensure_ascii=False))
        created = pipe.execute()
        return [item for item, new in zip(items, created, strict=True) if new]

    def items(self) -> builtins.list[ReviewItem]:
        raw = self.redis.hvals(self._items)
        found = [ReviewItem(**json.loads(value)) for value in raw]
        return sorted(found, key=lambda item: (item.created_at, item.id))

    def get_item(self, item_id: str) -> ReviewItem:
        raw = self.redis.hget(self._items, item_id)
        if raw is None:
            raise not_found(item_id)
        return ReviewItem(**json.loads(raw))

    def rate(self, rating: Rating) -> Rating:
        if not self.redis.hexists(self._items, rating.item_id):
            raise not_found(rating.item_id)
        stamped = replace(rating, created_at=time.time())
        key = f"{rating.item_id}|{rating.rater}"
        self.redis.hset(self._ratings, key, json.dumps(asdict(stamped), ensure_ascii=False))
        return stamped

    def ratings(self, rater: str | None = None) -> builtins.list[Rating]:
        found = [Rating(**json.loads(value)) for value in self.redis.hvals(self._ratings)]
        if rater is not None:
            found = [r for r in found if r.rater == rater]
        return sorted(found, key=lambda r: (r.item_id, r.rater))

    def close(self) -> None:
        self.redis.close()
