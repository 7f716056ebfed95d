"""Review store in an embedded SQLite file (``review.sqlite3`` under the data dir).

Items never expire: a review runs for days and its ratings are the result. One connection
guarded by a lock, as in the conversation store.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from dataclasses import astuple, replace
from pathlib import Path
from typing import TYPE_CHECKING

from services.gateway.review.store import Rating, ReviewItem, not_found

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_items (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    question_id TEXT,
    conversation_id TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS review_ratings (
    item_id TEXT NOT NULL REFERENCES review_items(id) ON DELETE CASCADE,
    rater TEXT NOT NULL,
    helpfulness INTEGER NOT NULL,
    accuracy INTEGER NOT NULL,
    safety INTEGER NOT NULL,
    comment TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (item_id, rater)
);
"""
_ITEM_COLUMNS = "id, source, question, answer, sources, question_id, conversation_id, created_at"


def _item(row: tuple) -> ReviewItem:
    item_id, source, question, answer, sources, question_id, conversation_id, at = row
    return ReviewItem(
        item_id, source, question, answer, json.loads(sources), question_id, conversation_id, at
    )


class SqliteReviewStore:
    """Usage: ``SqliteReviewStore(tmp_path / "review.sqlite3")``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SqliteReviewStore:
        return cls(settings.data_dir / "review.sqlite3")

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def add_items(self, items: builtins.list[ReviewItem]) -> builtins.list[ReviewItem]:
        added: builtins.list[ReviewItem] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for item in items:
                    cursor = self._db.execute(
                        f"INSERT OR IGNORE INTO review_items ({_ITEM_COLUMNS}) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            item.id,
                            item.source,
                            item.question,
                            item.answer,
                            json.dumps(item.sources, ensure_ascii=False),
                            item.question_id,
                            item.conversation_id,
                            item.created_at,
                        ),
                    )
                    if cursor.rowcount:
                        added.append(item)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return added

    def items(self) -> builtins.list[ReviewItem]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM review_items ORDER BY created_at, rowid"
            ).fetchall()
        return [_item(row) for row in rows]

    def get_item(self, item_id: str) -> ReviewItem:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE id = ?", (item_id,)
            ).fetchone()
        if row is None:
            raise not_found(item_id)
        return _item(row)

    def rate(self, rating: Rating) -> Rating:
        stamped = replace(rating, created_at=time.time())
        with self._lock:
            exists = self._db.execute(
                "SELECT 1 FROM review_items WHERE id = ?", (rating.item_id,)
            ).fetchone()
            if exists is None:
                raise not_found(rating.item_id)
            self._db.execute(
                "INSERT OR REPLACE INTO review_ratings VALUES (?, ?, ?, ?, ?, ?, ?)",
                astuple(stamped),
            )
        return stamped

    def ratings(self, rater: str | None = None) -> builtins.list[Rating]:
        query = "SELECT * FROM review_ratings"
        args: tuple[str, ...] = ()
        if rater is not None:
            query, args = query + " WHERE rater = ?", (rater,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY item_id, rater", args).fetchall()
        return [Rating(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
