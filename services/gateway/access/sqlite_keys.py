"""API keys in an SQLite file next to the conversations (one gateway process, or the CLI)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from docentlib.errors import InvalidInput, NotFound
from services.gateway.access.keys import ApiKey, check_scopes, hash_secret, new_token

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL,
    rpm INTEGER,
    tpm INTEGER
);
"""
_COLUMNS = "id, name, scopes, hash, created_at, revoked_at, rpm, tpm"


def _row(row: tuple) -> ApiKey:
    key_id, name, scopes, digest, created, revoked, rpm, tpm = row
    return ApiKey(key_id, name, tuple(json.loads(scopes)), digest, created, revoked, rpm, tpm)


class SqliteKeyStore:
    """Usage: ``SqliteKeyStore(tmp_path / "keys.sqlite3").create("ci", ["chat"])``."""

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SqliteKeyStore:
        return cls(settings.data_dir / "keys.sqlite3")

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

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
        with self._lock:
            self._db.execute(
                f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.name,
                    json.dumps(key.scopes),
                    key.hash,
                    key.created_at,
                    None,
                    rpm,
                    tpm,
                ),
            )
        return key, token

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at")
            return [_row(r) for r in rows.fetchall()]

    def revoke(self, key_id: str) -> ApiKey:
        with self._lock:
            self._db.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (time.time(), key_id),
            )
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return _row(row)

    def lookup(self, token: str) -> ApiKey | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
                (hash_secret(token),),
            ).fetchone()
        return _row(row) if row else None

    def any_active(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1")
            return row.fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()
