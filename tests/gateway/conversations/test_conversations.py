"""Both conversation stores (SQLite file, real Redis server) behave the same."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from docentlib.errors import NotFound
from services.gateway.chat.schemas import CONVERSATION_ID_PATTERN
from services.gateway.conversations.redis_store import RedisConversationStore
from services.gateway.conversations.sqlite_store import SqliteConversationStore
from services.gateway.conversations.store import ConversationStore, new_conversation_id


def make_store(kind: str, tmp_path: Path, redis_url: str, ttl_s: float) -> ConversationStore:
    if kind == "sqlite":
        return SqliteConversationStore(tmp_path / "gateway" / "conversations.sqlite3", ttl_s)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()  # each test starts from an empty server
    return RedisConversationStore(client, ttl_s)


@pytest.fixture(params=["sqlite", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(kind: str, tmp_path: Path, redis_url: str) -> Iterator[ConversationStore]:
    store = make_store(kind, tmp_path, redis_url, 3600)
    yield store
    store.close()


def test_ids_match_the_request_pattern() -> None:
    ids = {new_conversation_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.match(CONVERSATION_ID_PATTERN, i) for i in ids)


def test_create_append_get_list_delete(store: ConversationStore) -> None:
    info = store.create("alice", "Pods")
    assert info.turns == 0 and info.title == "Pods" and info.expires_at > time.time()
    store.append_exchange(info.id, "alice", "What is a Pod?", "The smallest unit [1].")
    conv = store.get(info.id, "alice")
    assert [(t.role, t.content) for t in conv.turns] == [
        ("user", "What is a Pod?"),
        ("assistant", "The smallest unit [1]."),
    ]
    assert conv.info.turns == 2
    other = store.create("alice")
    store.append_exchange(other.id, "alice", "What is a Service?", "A stable address.")
    listed = store.list("alice")
    assert [c.id for c in listed] == [other.id, info.id]  # most recently used first
    assert listed[0].title == "What is a Service?"  # untitled: named by its first question
    store.delete(info.id, "alice")
    with pytest.raises(NotFound):
        store.get(info.id, "alice")
    assert [c.id for c in store.list("alice")] == [other.id]


def test_another_owner_cannot_see_touch_or_delete_it(store: ConversationStore) -> None:
    conv = store.create("alice").id
    store.append_exchange(conv, "alice", "q", "a")
    for call in (
        lambda: store.get(conv, "bob"),
        lambda: store.recent(conv, "bob", 4),
        lambda: store.user_turns(conv, "bob", 4),
        lambda: store.delete(conv, "bob"),
        lambda: store.append_exchange(conv, "bob", "mine now?", "no"),
    ):
        with pytest.raises(NotFound):
            call()
    assert store.list("bob") == []
    assert store.get(conv, "alice").info.turns == 2


def test_recent_and_user_turns(store: ConversationStore) -> None:
    conv = new_conversation_id()  # append_exchange creates it
    for i in range(5):
        store.append_exchange(conv, "alice", f"q{i}", f"a{i}")
    assert store.recent(conv, "alice", 2) == [
        ("user", "q3"), ("assistant", "a3"), ("user", "q4"), ("assistant", "a4"),
    ]  # fmt: skip
    assert store.recent(conv, "alice", 0) == []
    assert store.user_turns(conv, "alice", 3) == ["q2", "q3", "q4"]
    assert store.user_turns(conv, "alice", 10) == [f"q{i}" for i in range(5)]


def test_conversations_expire(kind: str, tmp_path: Path, redis_url: str) -> None:
    store = make_store(kind, tmp_path, redis_url, ttl_s=0.5)
    try:
        conv = store.create("alice").id
        store.append_exchange(conv, "alice", "q", "a")
        assert store.get(conv, "alice").info.turns == 2
        time.sleep(1.0)
        with pytest.raises(NotFound):
            store.get(conv, "alice")
        with pytest.raises(NotFound):
            store.recent(conv, "alice", 4)
        assert store.list("alice") == []
    finally:
        store.close()


def test_sqlite_store_survives_a_restart_and_migrates_old_files(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, created_at REAL NOT NULL);"
        "INSERT INTO conversations VALUES ('conv_" + "a" * 32 + "', 1.0);"
    )
    old.close()
    store = SqliteConversationStore(path)
    assert store.get("conv_" + "a" * 32, "anonymous").info.turns == 0
    store.append_exchange("conv_" + "a" * 32, "anonymous", "q", "a")
    store.close()
    again = SqliteConversationStore(path)
    assert again.recent("conv_" + "a" * 32, "anonymous", 4) == [("user", "q"), ("assistant", "a")]
    again.close()
