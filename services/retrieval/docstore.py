"""SQLite document store: the source of truth that both indexes are derived from.

Every write is one transaction that also bumps ``generation``; an index records the generation
it reflects, so a mismatch at start-up means "rebuild me". Chunk row ids (AUTOINCREMENT, never
reused) are the integer ids both indexes use. Reads use one connection per thread, so searches
never wait for a write in progress (WAL) and never see half of one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from docentlib.errors import InvalidInput
from services.retrieval.types import DocumentInfo, DocumentRecord, StoredChunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', 0), ('schema_version', 1);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source_path TEXT NOT NULL,
    content_hash TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_source_path ON documents (source_path);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents (doc_id), ord INTEGER NOT NULL,
    text TEXT NOT NULL, heading_path TEXT NOT NULL, char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, ord);
"""
_BATCH = 500  # ids per IN (...) clause, well under SQLite's parameter limit


@dataclass(frozen=True)
class IndexEntry:
    """What the indexes need of one chunk: its integer id, searchable text and vector."""

    id: int
    text: str
    title: str
    heading_path: tuple[str, ...]
    vector: np.ndarray


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one write: the new generation and what the indexes must remove and add."""

    generation: int
    documents: int
    removed_ids: list[int]
    added: list[IndexEntry]


class DocStore:
    """Documents and chunks in one SQLite file; safe to use from many threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript("PRAGMA journal_mode=WAL;" + _SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA synchronous=FULL")  # a committed write survives power loss
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _bump(self, conn: sqlite3.Connection) -> int:
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    @staticmethod
    def _chunk_ids_of(conn: sqlite3.Connection, doc_ids: Sequence[str]) -> list[int]:
        return [r[0] for r in _rows_in(conn, "SELECT id FROM chunks WHERE doc_id IN ({})", doc_ids)]

    def upsert(self, documents: Sequence[DocumentRecord]) -> WriteResult:
        """Insert or wholly replace documents and their chunks, in one transaction."""
        now = datetime.now(UTC).isoformat()
        doc_ids = [d.doc_id for d in documents]
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                removed = self._chunk_ids_of(conn, doc_ids)
                conn.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in doc_ids])
                added: list[IndexEntry] = []
                for doc in documents:
                    conn.execute(
                        "INSERT INTO documents (doc_id, title, source_path, content_hash, "
                        "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (doc_id) DO UPDATE SET "
                        "title = excluded.title, source_path = excluded.source_path, "
                        "content_hash = excluded.content_hash, updated_at = excluded.updated_at",
                        (doc.doc_id, doc.title, doc.source_path, doc.content_hash, now),
                    )
                    for ord_, chunk in enumerate(doc.chunks):
                        vector = np.ascontiguousarray(chunk.vector, dtype=np.float32)
                        cursor = conn.execute(
                            "INSERT INTO chunks (chunk_id, doc_id, ord, text, heading_path, "
                            "char_start, char_end, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (chunk.chunk_id, doc.doc_id, ord_, chunk.text,
                             json.dumps(list(chunk.heading_path)), chunk.char_start,
                             chunk.char_end, vector.tobytes()),
                        )  # fmt: skip
                        id_ = int(cursor.lastrowid or 0)
                        heading = tuple(chunk.heading_path)
                        added.append(IndexEntry(id_, chunk.text, doc.title, heading, vector))
                generation = self._bump(conn)
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise InvalidInput(
                    f"upsert rejected: {exc}; a chunk_id may belong to another document"
                ) from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return WriteResult(generation, len(documents), removed, added)

    def delete(self, doc_ids: Sequence[str], source_paths: Sequence[str]) -> WriteResult:
        """Delete documents named by id or by source path; no match means no write."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                sql = "SELECT doc_id FROM documents WHERE {} IN ({{}})"
                targets = {r[0] for r in _rows_in(conn, sql.format("doc_id"), doc_ids)}
                targets |= {r[0] for r in _rows_in(conn, sql.format("source_path"), source_paths)}
                if not targets:
                    conn.execute("ROLLBACK")
                    return WriteResult(self.generation(), 0, [], [])
                ordered = sorted(targets)
                removed = self._chunk_ids_of(conn, ordered)
                conn.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in ordered])
                conn.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in ordered])
                generation = self._bump(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return WriteResult(generation, len(ordered), removed, [])

    def generation(self) -> int:
        """The number of writes ever committed; what an index must match to be current."""
        row = self._reader().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        conn = self._reader()
        docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def get_chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunks by integer id; ids that no longer exist are simply absent."""
        sql = (
            "SELECT c.id, c.chunk_id, c.doc_id, d.title, d.source_path, c.heading_path, c.text "
            "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE c.id IN ({})"
        )
        rows = _rows_in(self._reader(), sql, [int(i) for i in ids])
        return {
            r[0]: StoredChunk(r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6]) for r in rows
        }

    def list_documents(self, doc_ids: Sequence[str] | None = None) -> list[DocumentInfo]:
        """Documents ordered by id, all of them or only those named."""
        sql = (
            "SELECT d.doc_id, d.title, d.source_path, d.content_hash, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id) FROM documents d"
        )
        conn = self._reader()
        if doc_ids is None:
            rows = list(conn.execute(sql + " ORDER BY d.doc_id"))
        else:
            rows = sorted(_rows_in(conn, sql + " WHERE d.doc_id IN ({})", doc_ids))
        return [DocumentInfo(*row) for row in rows]

    def iter_entries(self, batch_size: int = 2048) -> Iterator[list[IndexEntry]]:
        """Every chunk in id order, in batches: what a rebuild of either index reads."""
        conn = self._reader()
        last = 0
        while True:
            rows = conn.execute(
                "SELECT c.id, c.text, d.title, c.heading_path, c.vector FROM chunks c "
                "JOIN documents d ON d.doc_id = c.doc_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
                (last, batch_size),
            ).fetchall()
            if not rows:
                return
            yield [
                IndexEntry(id_, text, title, tuple(json.loads(heading)), _vector(blob))
                for id_, text, title, heading, blob in rows
            ]
            last = rows[-1][0]

    def iter_vectors(self, batch_size: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every (ids int64 (n,), vectors float32 (n, dim)) in id order, for a dense rebuild."""
        conn = self._reader()
        last = 0
        while True:
            rows = conn.execute(
                "SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                (last, batch_size),
            ).fetchall()
            if not rows:
                return
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            yield ids, np.stack([_vector(row[1]) for row in rows])
            last = rows[-1][0]

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()


def _rows_in(conn: sqlite3.Connection, sql: str, values: Sequence[object]) -> list[tuple]:
    """Rows of ``sql`` with its ``IN ({})`` bound to distinct ``values``, in batches."""
    unique = list(dict.fromkeys(values))
    rows: list[tuple] = []
    for start in range(0, len(unique), _BATCH):
        part = unique[start : start + _BATCH]
        rows.extend(conn.execute(sql.format(",".join("?" * len(part))), part))
    return rows


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).copy()
