"""Conversation store: embedded SQLite under the gateway's data dir.

Synchronous and small on purpose; the pipeline calls it through ``asyncio.to_thread``. One
connection guarded by a lock is enough for a single gateway process (WAL keeps reads cheap);
a cluster would put a Redis-backed store with the same methods behind the same calls.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.runtime.errors import InvalidInput, NotFound

ROLES = ("user", "assistant")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, seq);
"""


def new_conversation_id() -> str:
    """``conv_`` and 32 hex digits (the pattern :class:`ChatRequest` accepts)."""
    return f"conv_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    created_at: float


@dataclass(frozen=True)
class Conversation:
    id: str
    created_at: float
    turns: list[Turn]


class ConversationStore:
    """Usage::

    store = ConversationStore(tmp_path / "conversations.sqlite3")
    conv = store.create()
    store.append_exchange(conv, "What is a Pod?", "The smallest deployable unit [1].")
    store.recent(conv, 4)  # [("user", ...), ("assistant", ...)]
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def create(self, conversation_id: str | None = None) -> str:
        """A new, empty conversation; returns its id."""
        conversation_id = conversation_id or new_conversation_id()
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, created_at) VALUES (?, ?)",
                (conversation_id, time.time()),
            )
        return conversation_id

    def exists(self, conversation_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        return row is not None

    def append(self, conversation_id: str, role: str, content: str) -> None:
        """Add one turn; :class:`NotFound` when the conversation does not exist."""
        self._append(conversation_id, [(role, content)], create=False)

    def append_exchange(self, conversation_id: str, question: str, answer: str) -> None:
        """Record a question and its answer atomically, creating the conversation if new."""
        self._append(conversation_id, [("user", question), ("assistant", answer)], create=True)

    def recent(self, conversation_id: str, exchanges: int) -> list[tuple[str, str]]:
        """The last ``exchanges`` user/assistant pairs as (role, content), oldest first.

        Always starts with a user turn; :class:`NotFound` when the conversation does not exist.
        """
        if not self.exists(conversation_id):
            raise NotFound(f"conversation {conversation_id} not found")
        if exchanges <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT role, content FROM turns WHERE conversation_id = ? "
                "ORDER BY seq DESC LIMIT ?",
                (conversation_id, 2 * exchanges),
            ).fetchall()
        turns = [(role, content) for role, content in reversed(rows)]
        while turns and turns[0][0] != "user":
            turns.pop(0)
        return turns

    def get(self, conversation_id: str) -> Conversation:
        """The whole conversation; :class:`NotFound` when it does not exist."""
        with self._lock:
            row = self._db.execute(
                "SELECT created_at FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"conversation {conversation_id} not found")
            turns = self._db.execute(
                "SELECT role, content, created_at FROM turns WHERE conversation_id = ? "
                "ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        return Conversation(conversation_id, row[0], [Turn(*t) for t in turns])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _append(self, conversation_id: str, turns: list[tuple[str, str]], create: bool) -> None:
        for role, _ in turns:
            if role not in ROLES:
                raise InvalidInput(f"role must be one of {ROLES}, got {role!r}")
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if create:
                    self._db.execute(
                        "INSERT OR IGNORE INTO conversations (id, created_at) VALUES (?, ?)",
                        (conversation_id, now),
                    )
                elif not self._db.execute(
                    "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone():
                    raise NotFound(f"conversation {conversation_id} not found")
                self._db.executemany(
                    "INSERT INTO turns (conversation_id, role, content, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    [(conversation_id, role, content, now) for role, content in turns],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
