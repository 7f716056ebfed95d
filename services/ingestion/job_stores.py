"""The two :class:`~services.ingestion.jobs.JobStore` implementations: SQLite and Redis.

SQLite keeps the records in one file under ``data_dir`` (a local stack, one replica). Redis
shares them between replicas: one JSON value per job (expiring after ``job_ttl_s``), a sorted
set per owner for listing and a set of unfinished jobs for the abandoned-job sweep, all under
one hash tag so a Redis Cluster keeps them in one slot.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from services.ingestion.jobs import FAILED, UNFINISHED, Job
from services.ingestion.settings import IngestSettings
from services.runtime.redis import PREFIX, async_redis_client

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    lease_until REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
"""


class SqliteJobStore:
    """Usage:: ``store = SqliteJobStore(path); await store.open()``."""

    def __init__(self, path: Path, keep: int = 1000) -> None:
        self.path = path
        self.keep = keep
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> SqliteJobStore:
        return cls(settings.resolved_data_dir() / "jobs.sqlite3", settings.keep_jobs)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            return db

        self._db = await asyncio.to_thread(connect)

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await asyncio.to_thread(db.close)

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._db is None:
            raise RuntimeError("job store is not open")
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    async def put(self, job: Job) -> None:
        sql = "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)"
        row = (job.id, job.owner, job.created_at, job.status, job.lease_until)
        await asyncio.to_thread(self._run, sql, (*row, json.dumps(job.to_dict())))
        await asyncio.to_thread(
            self._run,
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE owner = ? "
            "ORDER BY created_at DESC LIMIT -1 OFFSET ?)",
            (job.owner, self.keep),
        )

    async def get(self, job_id: str) -> Job | None:
        rows = await asyncio.to_thread(self._run, "SELECT data FROM jobs WHERE id = ?", (job_id,))
        return Job.from_dict(json.loads(rows[0][0])) if rows else None

    async def list(self, owner: str, limit: int) -> list[Job]:
        sql = "SELECT data FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT ?"
        rows = await asyncio.to_thread(self._run, sql, (owner, limit))
        return [Job.from_dict(json.loads(r[0])) for r in rows]

    async def fail_abandoned(self, now: float, reason: str) -> int:
        sql = "SELECT data FROM jobs WHERE status IN (?, ?) AND lease_until < ?"
        rows = await asyncio.to_thread(self._run, sql, (*UNFINISHED, now))
        for (data,) in rows:
            job = Job.from_dict(json.loads(data))
            job.finish(FAILED, reason)
            await self.put(job)
        return len(rows)


class RedisJobStore:
    """Usage:: ``store = RedisJobStore(redis.asyncio.Redis(...), ttl_s=3600)``."""

    def __init__(self, client: Any, ttl_s: float, keep: int = 1000, tag: str = "ingest") -> None:
        self.redis = client
        self.ttl_ms = int(ttl_s * 1000)
        self.keep = keep
        tag = f"{PREFIX}:{{{tag}}}"
        self._job, self._owner, self._active = f"{tag}:job:", f"{tag}:owner:", f"{tag}:active"

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> RedisJobStore:
        client = async_redis_client(settings.redis_url, settings.redis_cluster)
        return cls(client, settings.job_ttl_s, settings.keep_jobs)

    async def open(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def put(self, job: Job) -> None:
        owner_key = self._owner + job.owner
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._job + job.id, json.dumps(job.to_dict()), px=self.ttl_ms)
            pipe.zadd(owner_key, {job.id: job.created_at})
            pipe.zremrangebyrank(owner_key, 0, -self.keep - 1)
            pipe.pexpire(owner_key, self.ttl_ms)
            if job.status in UNFINISHED:
                pipe.sadd(self._active, job.id)
            else:
                pipe.srem(self._active, job.id)
            await pipe.execute()

    async def get(self, job_id: str) -> Job | None:
        data = await self.redis.get(self._job + job_id)
        return Job.from_dict(json.loads(data)) if data else None

    async def list(self, owner: str, limit: int) -> list[Job]:
        ids = await self.redis.zrevrange(self._owner + owner, 0, limit - 1)
        if not ids:
            return []
        values = await self.redis.mget([self._job + i for i in ids])
        return [Job.from_dict(json.loads(v)) for v in values if v]

    async def fail_abandoned(self, now: float, reason: str) -> int:
        failed = 0
        for job_id in await self.redis.smembers(self._active):
            job = await self.get(job_id)
            if job is None or job.status not in UNFINISHED:
                await self.redis.srem(self._active, job_id)
            elif job.lease_until < now:
                job.finish(FAILED, reason)
                await self.put(job)
                failed += 1
        return failed
