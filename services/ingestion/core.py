"""Uploads become jobs; jobs and bulk runs go through the pipeline, a few at a time.

An upload is written under ``data_dir/uploads/<job id>/`` and ingested as a single file, so its
``doc_id`` is the file name without its suffix (uploading ``guide.md`` again replaces
``guide``). At most ``max_concurrent_jobs`` runs (jobs and ``IngestPath``) go at once; the rest
wait queued. Job records live in the :class:`JobStore` every replica reads; a background loop
renews the lease of this replica's jobs and fails the jobs of replicas that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from docentlib.documents.discovery import DEFAULT_SUFFIXES
from docentlib.errors import InvalidInput, NotFound, UnsupportedDocument
from services.ingestion.ingest import Ingestor, IngestReport
from services.ingestion.jobs import (
    ABANDONED,
    FAILED,
    JOB_STORES,
    RUNNING,
    SUCCEEDED,
    UNFINISHED,
    Job,
    JobStore,
)
from services.ingestion.metrics import JOB_SECONDS, JOBS_FAILED
from services.ingestion.settings import IngestSettings

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
DEFAULT_LIST_LIMIT = 50


def accepted_suffixes() -> tuple[str, ...]:
    """What the pipeline can parse."""
    return tuple(DEFAULT_SUFFIXES)


def safe_filename(name: str) -> str:
    """The base name with anything but letters, digits, ``._-`` replaced; never hidden."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).lstrip(".")
    if not cleaned.strip("_"):
        raise InvalidInput("the upload needs a file name, e.g. guide.md")
    return cleaned


class IngestionCore:
    """Usage::

    core = IngestionCore.from_settings(IngestSettings())
    await core.start()
    job = await core.upload("guide.md", "key_1", chunks)  # chunks: AsyncIterator[bytes]
    (await core.get(job.id, "key_1")).status  # "queued" -> "running" -> "succeeded"
    """

    def __init__(self, settings: IngestSettings, store: JobStore, ingestor: Ingestor) -> None:
        self.settings = settings
        self.store = store
        self.ingestor = ingestor
        self.uploads = settings.resolved_data_dir() / "uploads"
        self._slots = asyncio.Semaphore(settings.max_concurrent_jobs)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._active: dict[str, Job] = {}  # this replica's unfinished jobs
        self._writes = asyncio.Lock()  # a lease renewal never lands after a job's final write
        self._keeper: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> IngestionCore:
        store: JobStore = JOB_STORES.get(settings.job_store)(settings)
        return cls(settings, store, Ingestor(settings))

    async def start(self) -> None:
        """Open the store, fail jobs whose worker died, drop uploads a previous run left."""
        await self.store.open()
        await asyncio.to_thread(shutil.rmtree, self.uploads, True)
        failed = await self.store.fail_abandoned(time.time(), ABANDONED)
        if failed:
            log.warning("failed jobs of a stopped worker", extra={"jobs": failed})
        self._keeper = asyncio.create_task(self._keep_leases(), name="ingestion-leases")

    async def close(self) -> None:
        """Stop running jobs (each is recorded failed), then close the store and clients."""
        if self._keeper is not None:
            self._keeper.cancel()
        tasks = list(self._tasks.values()) + ([self._keeper] if self._keeper else [])
        unfinished = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job in unfinished:  # a task cancelled before it started never ran its own cleanup
            if job.status in UNFINISHED:
                job.finish(FAILED, ABANDONED)
                await self._save(job)
        await self.store.close()
        await self.ingestor.close()

    async def upload(self, filename: str, owner: str, parts: AsyncIterator[bytes]) -> Job:
        """Store the upload and queue its ingestion; :class:`InvalidInput` for bad files."""
        name = safe_filename(filename)
        suffixes = accepted_suffixes()
        suffix = next((s for s in suffixes if name.lower().endswith(s)), None)
        if suffix is None:
            raise UnsupportedDocument(
                f"{name}: unsupported document type; accepted suffixes: {', '.join(suffixes)}"
            )
        data = await self._read(name, parts)
        job = Job(f"job_{uuid.uuid4().hex}", owner, name, name[: -len(suffix)])
        job.lease_until = time.time() + self.settings.job_lease_s
        path = self.uploads / job.id / name
        await asyncio.to_thread(_write, path, data)
        await self._save(job)
        self._active[job.id] = job
        task = asyncio.create_task(self._run(job, path), name=job.id)
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._forget(job.id))
        return job

    async def get(self, job_id: str, owner: str) -> Job:
        job = await self.store.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"job {job_id} not found")
        return job

    async def list(self, owner: str, limit: int = 0) -> list[Job]:
        if limit < 0:
            raise InvalidInput(f"limit must be 0 (the default, {DEFAULT_LIST_LIMIT}) or more")
        return await self.store.list(owner, min(limit or DEFAULT_LIST_LIMIT, 1000))

    async def ingest_path(self, path: str) -> IngestReport:
        """Ingest a folder or file this process can see; waits for a free slot."""
        if not path or not Path(path).is_absolute():
            raise InvalidInput(f"path must be absolute (as the service sees it): {path!r}")
        root = Path(path)
        if not await asyncio.to_thread(root.exists):
            raise NotFound(f"path does not exist on the ingestion service: {path}")
        async with self._slots:
            return await self.ingestor.run(root, progress=False)

    async def _read(self, name: str, parts: AsyncIterator[bytes]) -> bytes:
        limit = self.settings.max_upload_mb * 1024 * 1024
        chunks, size = [], 0
        async for part in parts:
            size += len(part)
            if size > limit:
                raise InvalidInput(f"{name} is larger than {self.settings.max_upload_mb} MB")
            chunks.append(part)
        data = b"".join(chunks)
        if not data.strip():
            raise InvalidInput(f"{name} is empty")
        return data

    async def _run(self, job: Job, path: Path) -> None:
        try:
            async with self._slots:
                job.status = RUNNING
                await self._save(job)
                start = time.perf_counter()
                await self._ingest(job, path)
                JOB_SECONDS.labels(job.status).observe(time.perf_counter() - start)
                await asyncio.to_thread(shutil.rmtree, path.parent, True)
                await self._save(job)  # ended before the next job may start running
        except asyncio.CancelledError:
            job.finish(FAILED, ABANDONED)
            raise
        finally:
            if job.status == FAILED:
                JOBS_FAILED.inc()
            await asyncio.to_thread(shutil.rmtree, path.parent, True)
            with contextlib.suppress(Exception):  # the store may be down; the lease then lapses
                await asyncio.shield(self._save(job))

    async def _ingest(self, job: Job, path: Path) -> None:
        try:
            report = await self.ingestor.run(path, progress=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the job records it; the service goes on
            log.warning("document ingestion failed", extra={"job": job.id}, exc_info=True)
            job.finish(FAILED, f"{type(exc).__name__}: {exc}")
            return
        if report.failed:
            job.finish(FAILED, "; ".join(report.failed.values()))
        else:
            job.chunks, job.unchanged = report.chunks, report.unchanged > 0
            job.finish(SUCCEEDED)

    async def _keep_leases(self) -> None:
        """Renew this replica's jobs; fail those whose replica stopped renewing."""
        every = self.settings.job_lease_s / 3
        while True:
            await asyncio.sleep(every)
            try:
                for job in list(self._active.values()):
                    async with self._writes:
                        if job.status in UNFINISHED:
                            job.lease_until = time.time() + self.settings.job_lease_s
                            await self.store.put(job)
                await self.store.fail_abandoned(time.time(), ABANDONED)
            except Exception:  # a store outage must not end the loop
                log.warning("could not renew job leases", exc_info=True)

    async def _save(self, job: Job) -> None:
        async with self._writes:
            await self.store.put(job)

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._active.pop(job_id, None)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
