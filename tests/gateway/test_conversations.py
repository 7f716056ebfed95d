"""The SQLite conversation store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.gateway.conversations import ConversationStore, new_conversation_id
from services.gateway.schemas import CONVERSATION_ID_PATTERN
from services.runtime.errors import InvalidInput, NotFound


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    store = ConversationStore(tmp_path / "gateway" / "conversations.sqlite3")
    yield store
    store.close()


def test_ids_match_the_request_pattern() -> None:
    ids = {new_conversation_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.match(CONVERSATION_ID_PATTERN, i) for i in ids)


def test_create_append_get(store: ConversationStore) -> None:
    conv = store.create()
    store.append(conv, "user", "What is a Pod?")
    store.append(conv, "assistant", "The smallest unit [1].")
    got = store.get(conv)
    assert got.id == conv
    assert [(t.role, t.content) for t in got.turns] == [
        ("user", "What is a Pod?"),
        ("assistant", "The smallest unit [1]."),
    ]


def test_recent_returns_the_last_exchanges_oldest_first(store: ConversationStore) -> None:
    conv = new_conversation_id()
    for i in range(5):
        store.append_exchange(conv, f"q{i}", f"a{i}")
    assert store.recent(conv, 2) == [("user", "q3"), ("assistant", "a3"), ("user", "q4"),
                                     ("assistant", "a4")]  # fmt: skip
    assert store.recent(conv, 0) == []
    assert len(store.recent(conv, 50)) == 10


def test_recent_never_starts_with_an_assistant_turn(store: ConversationStore) -> None:
    conv = store.create()
    store.append(conv, "user", "q0")
    store.append(conv, "assistant", "a0")
    store.append(conv, "assistant", "a0 again")
    store.append(conv, "user", "q1")
    assert store.recent(conv, 1) == [("user", "q1")]


def test_unknown_conversation_is_not_found(store: ConversationStore) -> None:
    missing = new_conversation_id()
    with pytest.raises(NotFound):
        store.get(missing)
    with pytest.raises(NotFound):
        store.recent(missing, 4)
    with pytest.raises(NotFound):
        store.append(missing, "user", "hello")
    assert not store.exists(missing)


def test_bad_role_is_refused_and_nothing_is_written(store: ConversationStore) -> None:
    conv = store.create()
    with pytest.raises(InvalidInput, match="role"):
        store.append(conv, "system", "sneaky")
    assert store.get(conv).turns == []


def test_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    first = ConversationStore(path)
    conv = new_conversation_id()
    first.append_exchange(conv, "q", "a")
    first.close()
    second = ConversationStore(path)
    assert second.recent(conv, 4) == [("user", "q"), ("assistant", "a")]
    second.close()
