"""Conversation store in Redis: what several gateway replicas share.

Layout (one hash tag per conversation, so its keys live in one cluster slot)::

    docent:conv:{<id>}          hash: owner, title, created_at, updated_at
    docent:conv:{<id>}:turns    list of JSON turns
    docent:owner:{<owner>}:conv sorted set: conversation id -> updated_at

Expiry is Redis's own (``EXPIRE`` refreshed on every append), so an idle conversation vanishes
without a sweeper; the owner index drops dead ids when it is listed.
"""

from __future__ import annotations

import builtins
import json
import time
from typing import TYPE_CHECKING, Any

from docentlib.errors import NotFound
from services.gateway.conversations.store import (
    Conversation,
    ConversationInfo,
    Exchange,
    Turn,
    check_roles,
    new_conversation_id,
    not_found,
    pair_exchanges,
    title_of,
    trim_to_user_start,
)
from services.runtime.redis import PREFIX, redis_client

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings


def _meta(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{{{conversation_id}}}"


def _turns(conversation_id: str) -> str:
    return f"{PREFIX}:conv:{{{conversation_id}}}:turns"


def _index(owner: str) -> str:
    return f"{PREFIX}:owner:{{{owner}}}:conv"


class RedisConversationStore:
    """Usage: ``RedisConversationStore(redis.Redis.from_url(url, decode_responses=True), 3600)``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RedisConversationStore:
        client = redis_client(settings.redis_url, settings.redis_cluster)
        return cls(client, settings.conversation_ttl_s)

    def __init__(self, client: Any, ttl_s: float = 7 * 24 * 3600.0) -> None:
        self.redis, self.ttl_s = client, ttl_s
        self._ttl_ms = max(1, int(ttl_s * 1000))

    def create(self, owner: str, title: str = "") -> ConversationInfo:
        conversation_id, now = new_conversation_id(), time.time()
        fields = {
            "owner": owner,
            "title": title_of(title),
            "created_at": now,
            "updated_at": now,
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(_meta(conversation_id), mapping=fields)
        pipe.pexpire(_meta(conversation_id), self._ttl_ms)
        pipe.execute()
        self._index_touch(owner, conversation_id, now)
        return ConversationInfo(
            conversation_id, str(fields["title"]), now, now, now + self.ttl_s, 0
        )

    def get(self, conversation_id: str, owner: str) -> Conversation:
        info = self._info(conversation_id, owner)
        raw = self.redis.lrange(_turns(conversation_id), 0, -1)
        turns = [Turn(**json.loads(item)) for item in raw]
        return Conversation(info, turns)

    def list(self, owner: str, limit: int = 50) -> builtins.list[ConversationInfo]:
        ids = self.redis.zrevrange(_index(owner), 0, max(limit, 1) * 2 - 1)
        found: list[ConversationInfo] = []
        for conversation_id in ids:
            try:
                found.append(self._info(conversation_id, owner))
            except NotFound:
                self.redis.zrem(_index(owner), conversation_id)
            if len(found) >= limit:
                break
        return found

    def delete(self, conversation_id: str, owner: str) -> None:
        self._info(conversation_id, owner)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(_meta(conversation_id), _turns(conversation_id))
        pipe.execute()
        self.redis.zrem(_index(owner), conversation_id)

    def recent(
        self, conversation_id: str, owner: str, exchanges: int
    ) -> builtins.list[tuple[str, str]]:
        self._info(conversation_id, owner)
        if exchanges <= 0:
            return []
        raw = self.redis.lrange(_turns(conversation_id), -2 * exchanges, -1)
        turns = [json.loads(item) for item in raw]
        return trim_to_user_start([(t["role"], t["content"]) for t in turns])

    def user_turns(self, conversation_id: str, owner: str, limit: int) -> builtins.list[str]:
        self._info(conversation_id, owner)
        if limit <= 0:
            return []
        raw = self.redis.lrange(_turns(conversation_id), -2 * limit, -1)
        turns = [json.loads(item) for item in raw]
        return [t["content"] for t in turns if t["role"] == "user"][-limit:]

    def append_exchange(
        self,
        conversation_id: str,
        owner: str,
        question: str,
        answer: str,
        sources: builtins.list[dict[str, Any]] | None = None,
    ) -> None:
        pairs = [("user", question), ("assistant", answer)]
        check_roles(pairs)
        now = time.time()
        meta = _meta(conversation_id)
        stored = self.redis.hget(meta, "owner")
        if stored is not None and stored != owner:
            raise not_found(conversation_id)
        turns: list[dict[str, Any]] = [
            {"role": r, "content": c, "created_at": now} for r, c in pairs
        ]
        if sources is not None:
            turns[1]["sources"] = sources
        items = [json.dumps(t, ensure_ascii=False) for t in turns]
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(meta, "owner", owner)
        pipe.hsetnx(meta, "created_at", now)
        pipe.hsetnx(meta, "title", title_of(question))
        pipe.hset(meta, "updated_at", now)
        pipe.rpush(_turns(conversation_id), *items)
        pipe.pexpire(meta, self._ttl_ms)
        pipe.pexpire(_turns(conversation_id), self._ttl_ms)
        pipe.execute()
        if not self.redis.hget(meta, "title"):
            self.redis.hset(meta, "title", title_of(question))
        self._index_touch(owner, conversation_id, now)

    def exchanges(self, limit: int) -> builtins.list[Exchange]:
        """Walks the owner indexes (SCAN), newest conversations first, until no older one can
        hold one of the ``limit`` newest exchanges."""
        if limit <= 0:
            return []
        recent: list[tuple[float, str, str]] = []
        for index in self.redis.scan_iter(match=f"{PREFIX}:owner:*:conv", count=500):
            owner = index[len(f"{PREFIX}:owner:{{") : -len("}:conv")]
            for conversation_id, updated in self.redis.zrevrange(
                index, 0, limit - 1, withscores=True
            ):
                recent.append((float(updated), conversation_id, owner))
        found: list[Exchange] = []
        for updated, conversation_id, owner in sorted(recent, reverse=True):
            if len(found) >= limit and updated < found[limit - 1].created_at:
                break
            raw = self.redis.lrange(_turns(conversation_id), 0, -1)
            turns = [Turn(**json.loads(item)) for item in raw]
            found.extend(pair_exchanges(conversation_id, owner, turns))
            found.sort(key=lambda e: e.created_at, reverse=True)
        return found[:limit]

    def close(self) -> None:
        self.redis.close()

    def _index_touch(self, owner: str, conversation_id: str, now: float) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(_index(owner), {conversation_id: now})
        pipe.pexpire(_index(owner), self._ttl_ms)
        pipe.execute()

    def _info(self, conversation_id: str, owner: str) -> ConversationInfo:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(_meta(conversation_id))
        pipe.pttl(_meta(conversation_id))
        pipe.llen(_turns(conversation_id))
        meta, ttl_ms, turns = pipe.execute()
        if not meta or meta.get("owner") != owner:
            raise not_found(conversation_id)
        expires_at = time.time() + max(ttl_ms, 0) / 1000
        return ConversationInfo(
            conversation_id,
            meta.get("title", ""),
            float(meta.get("created_at", 0)),
            float(meta.get("updated_at", 0)),
            expires_at,
            int(turns),
        )
