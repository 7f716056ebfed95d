"""Conversation store in an embedded SQLite file: the default, for one gateway process.

One connection guarded by a lock is enough for a single process (WAL keeps reads cheap).
Expiry is a column: expired rows are invisible at once and deleted lazily on the next write.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.gateway.conversations.store import (
    Conversation,
    ConversationInfo,
    Exchange,
    Turn,
    check_roles,
    new_conversation_id,
    not_found,
    title_of,
    trim_to_user_start,
)

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations(owner, updated_at);
CREATE TABLE IF NOT EXISTS turns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL,
    sources TEXT
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, seq);
"""
_INFO = (
    "SELECT c.id, c.title, c.created_at, c.updated_at, c.expires_at, "
    "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) FROM conversations c "
)

# An answer is the turn right after its question (both are written in one transaction); its
# index counts the conversation's earlier answers.
_EXCHANGES = """
SELECT a.conversation_id, c.owner,
    (SELECT COUNT(*) FROM turns p WHERE p.conversation_id = a.conversation_id
        AND p.role = 'assistant' AND p.seq < a.seq),
    q.content, a.content, a.sources, a.created_at
FROM turns a
JOIN turns q ON q.conversation_id = a.conversation_id AND q.seq = a.seq - 1 AND q.role = 'user'
JOIN conversations c ON c.id = a.conversation_id
WHERE a.role = 'assistant' AND c.expires_at > ?
ORDER BY a.seq DESC LIMIT ?
"""


def _encode(sources: list[dict[str, Any]] | None) -> str | None:
    return None if sources is None else json.dumps(sources, ensure_ascii=False)


def _decode(raw: str | None) -> list[dict[str, Any]] | None:
    return None if raw is None else json.loads(raw)


class SqliteConversationStore:
    """Usage: ``SqliteConversationStore(tmp_path / "conversations.sqlite3", ttl_s=3600)``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SqliteConversationStore:
        return cls(settings.data_dir / "conversations.sqlite3", settings.conversation_ttl_s)

    def __init__(self, path: Path, ttl_s: float = 7 * 24 * 3600.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.ttl_s = path, ttl_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._db.executescript(_SCHEMA)
        self._migrate_sources()

    def create(self, owner: str, title: str = "") -> ConversationInfo:
        now, conversation_id = time.time(), new_conversation_id()
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, owner, title_of(title), now, now, now + self.ttl_s),
            )
        return ConversationInfo(conversation_id, title_of(title), now, now, now + self.ttl_s, 0)

    def get(self, conversation_id: str, owner: str) -> Conversation:
        with self._lock:
            info = self._info(conversation_id, owner)
            rows = self._db.execute(
                "SELECT role, content, created_at, sources FROM turns WHERE conversation_id = ? "
                "ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        return Conversation(info, [Turn(r, c, at, _decode(src)) for r, c, at, src in rows])

    def list(self, owner: str, limit: int = 50) -> builtins.list[ConversationInfo]:
        with self._lock:
            rows = self._db.execute(
                _INFO + "WHERE c.owner = ? AND c.expires_at > ? ORDER BY c.updated_at DESC LIMIT ?",
                (owner, time.time(), limit),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def delete(self, conversation_id: str, owner: str) -> None:
        with self._lock:
            self._info(conversation_id, owner)
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def recent(
        self, conversation_id: str, owner: str, exchanges: int
    ) -> builtins.list[tuple[str, str]]:
        with self._lock:
            self._info(conversation_id, owner)
            if exchanges <= 0:
                return []
            rows = self._db.execute(
                "SELECT role, content FROM turns WHERE conversation_id = ? "
                "ORDER BY seq DESC LIMIT ?",
                (conversation_id, 2 * exchanges),
            ).fetchall()
        return trim_to_user_start([(role, content) for role, content in reversed(rows)])

    def user_turns(self, conversation_id: str, owner: str, limit: int) -> builtins.list[str]:
        with self._lock:
            self._info(conversation_id, owner)
            rows = self._db.execute(
                "SELECT content FROM turns WHERE conversation_id = ? AND role = 'user' "
                "ORDER BY seq DESC LIMIT ?",
                (conversation_id, max(limit, 0)),
            ).fetchall()
        return [content for (content,) in reversed(rows)]

    def append_exchange(
        self,
        conversation_id: str,
        owner: str,
        question: str,
        answer: str,
        sources: builtins.list[dict[str, Any]] | None = None,
    ) -> None:
        turns = [("user", question, None), ("assistant", answer, _encode(sources))]
        check_roles([(role, content) for role, content, _ in turns])
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM conversations WHERE expires_at <= ?", (now,))
                row = self._db.execute(
                    "SELECT owner FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                        (conversation_id, owner, title_of(question), now, now, now + self.ttl_s),
                    )
                elif row[0] != owner:
                    raise not_found(conversation_id)
                else:
                    self._db.execute(
                        "UPDATE conversations SET updated_at = ?, expires_at = ?, "
                        "title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                        (now, now + self.ttl_s, title_of(question), conversation_id),
                    )
                self._db.executemany(
                    "INSERT INTO turns (conversation_id, role, content, created_at, sources) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(conversation_id, role, text, now, src) for role, text, src in turns],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def exchanges(self, limit: int) -> builtins.list[Exchange]:
        with self._lock:
            rows = self._db.execute(_EXCHANGES, (time.time(), max(limit, 0))).fetchall()
        return [Exchange(c, o, i, q, a, _decode(src), at) for c, o, i, q, a, src, at in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        """Give a store written before owners and expiry existed those columns (anonymous)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(conversations)")}
        if not columns or "owner" in columns:
            return
        for ddl in (
            "owner TEXT NOT NULL DEFAULT 'anonymous'",
            "title TEXT NOT NULL DEFAULT ''",
            "updated_at REAL NOT NULL DEFAULT 0",
            "expires_at REAL NOT NULL DEFAULT 0",
        ):
            self._db.execute(f"ALTER TABLE conversations ADD COLUMN {ddl}")
        self._db.execute(
            "UPDATE conversations SET updated_at = created_at, expires_at = ?",
            (time.time() + self.ttl_s,),
        )

    def _migrate_sources(self) -> None:
        """Give a turns table written before answers kept their sources that column (null)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(turns)")}
        if "sources" not in columns:
            self._db.execute("ALTER TABLE turns ADD COLUMN sources TEXT")

    def _info(self, conversation_id: str, owner: str) -> ConversationInfo:
        """Call with the lock held; :class:`NotFound` unless live and ``owner``'s."""
        row = self._db.execute(
            _INFO + "WHERE c.id = ? AND c.owner = ? AND c.expires_at > ?",
            (conversation_id, owner, time.time()),
        ).fetchone()
        if row is None:
            raise not_found(conversation_id)
        return ConversationInfo(*row)
