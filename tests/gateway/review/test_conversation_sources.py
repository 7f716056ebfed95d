"""The conversation stores keep an answer's sources and list all owners' exchanges (SQLite and
real Redis), and an SQLite file written before sources existed is migrated."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.gateway.conversations.redis_store import RedisConversationStore
from services.gateway.conversations.sqlite_store import SqliteConversationStore
from services.gateway.conversations.store import ConversationStore

SOURCES = [{"n": 1, "title": "Deployments", "source_path": "d.md", "text": "Roll back with…"}]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    made: ConversationStore
    if request.param == "sqlite":
        made = SqliteConversationStore(tmp_path / "conversations.sqlite3", 3600)
    else:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
        client.flushdb()  # as tests/gateway/conversations do: each test starts empty
        made = RedisConversationStore(client, 3600)
    yield made
    made.close()


def test_sources_are_kept_with_the_answer(store: ConversationStore) -> None:
    conv = store.create("alice").id
    store.append_exchange(conv, "alice", "How do I roll back?", "Undo it [1].", SOURCES)
    store.append_exchange(conv, "alice", "Thanks", "You're welcome.")  # no sources given
    turns = store.get(conv, "alice").turns
    assert [t.sources for t in turns] == [None, SOURCES, None, None]
    assert store.recent(conv, "alice", 4)[1] == ("assistant", "Undo it [1].")


def test_exchanges_of_every_owner_newest_first(store: ConversationStore) -> None:
    first = store.create("alice").id
    store.append_exchange(first, "alice", "q1", "a1", SOURCES)
    time.sleep(0.01)
    second = store.create("bob").id
    store.append_exchange(second, "bob", "q2", "a2")
    time.sleep(0.01)
    store.append_exchange(first, "alice", "q3", "a3", [])
    found = store.exchanges(10)
    assert [(e.question, e.answer, e.owner, e.index) for e in found] == [
        ("q3", "a3", "alice", 1),
        ("q2", "a2", "bob", 0),
        ("q1", "a1", "alice", 0),
    ]
    assert found[2].sources == SOURCES and found[1].sources is None and found[0].sources == []
    assert found[0].conversation_id == first and found[0].created_at >= found[1].created_at
    assert [e.question for e in store.exchanges(2)] == ["q3", "q2"]
    assert store.exchanges(0) == []


def test_sqlite_file_without_sources_column_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conv = "conv_" + "b" * 32
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT "
        "NULL DEFAULT '', created_at REAL NOT NULL, updated_at REAL NOT NULL, expires_at REAL "
        "NOT NULL);"
        "CREATE TABLE turns (seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT "
        "NULL REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT "
        "NOT NULL, created_at REAL NOT NULL);"
        f"INSERT INTO conversations VALUES ('{conv}', 'alice', 'q', 1, 1, 1e12);"
        f"INSERT INTO turns (conversation_id, role, content, created_at) VALUES "
        f"('{conv}', 'user', 'old q', 1), ('{conv}', 'assistant', 'old a', 1);"
    )
    old.close()
    store = SqliteConversationStore(path)
    assert [t.sources for t in store.get(conv, "alice").turns] == [None, None]
    store.append_exchange(conv, "alice", "new q", "new a", SOURCES)
    assert store.get(conv, "alice").turns[-1].sources == SOURCES
    assert [(e.question, e.index) for e in store.exchanges(5)] == [("new q", 1), ("old q", 0)]
    store.close()
