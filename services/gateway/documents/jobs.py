"""Uploaded documents are ingested in the background; a job records how it went.

The upload is written under ``data_dir/uploads/<job id>/`` and handed to the ingestion
pipeline (:class:`services.ingestion.ingest.Ingestor`) as a single file, so its ``doc_id`` is
the file name without its suffix (uploading ``guide.md`` again replaces ``guide``). Jobs run one
at a time (embedding is CPU-bound) and are kept in this process's memory: a job id is only known
to the replica that accepted the upload.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from docentlib.errors import InvalidInput, NotFound
from services.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)
KEEP_JOBS = 1000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def accepted_suffixes() -> tuple[str, ...]:
    """What the ingestion pipeline can parse (it owns the list)."""
    from docentlib.documents.discovery import DEFAULT_SUFFIXES

    return tuple(DEFAULT_SUFFIXES)


def safe_filename(name: str) -> str:
    """The base name with anything but letters, digits, ``._-`` replaced; never hidden."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).lstrip(".")
    if not cleaned.strip("_"):
        raise InvalidInput("the upload needs a file name, e.g. guide.md")
    return cleaned


@dataclass
class Job:
    id: str
    owner: str
    filename: str
    doc_id: str
    status: str = "queued"  # queued, running, succeeded, failed
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    chunks: int = 0
    unchanged: bool = False
    error: str | None = None


class DocumentJobs:
    """Usage::

    jobs = DocumentJobs(settings)
    job = await jobs.submit("guide.md", b"# Guide ...", owner="key_1")
    jobs.get(job.id, "key_1").status  # "queued" -> "running" -> "succeeded"
    """

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "uploads"
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Semaphore(1)

    async def submit(self, filename: str, data: bytes, owner: str) -> Job:
        """Store the upload and queue its ingestion; :class:`InvalidInput` for bad files."""
        name = safe_filename(filename)
        suffixes = accepted_suffixes()
        suffix = next((s for s in suffixes if name.lower().endswith(s)), None)
        if suffix is None:
            raise UnsupportedDocument(
                f"{name}: unsupported document type; accepted suffixes: {', '.join(suffixes)}"
            )
        if not data.strip():
            raise InvalidInput(f"{name} is empty")
        job = Job(f"job_{uuid.uuid4().hex}", owner, name, name[: -len(suffix)])
        folder = self.root / job.id
        await asyncio.to_thread(_write, folder / name, data)
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_JOBS:
            self._jobs.popitem(last=False)
        task = asyncio.create_task(self._run(job, folder / name), name=job.id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str, owner: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(f"job {job_id} not found")
        return job

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job: Job, path: Path) -> None:
        from services.ingestion.ingest import Ingestor
        from services.ingestion.settings import IngestSettings

        async with self._one_at_a_time:
            job.status = "running"
            s = self.settings
            ingestor = Ingestor(
                IngestSettings(
                    embedding_address=s.embedding_address, retrieval_address=s.retrieval_address
                )
            )
            try:
                report = await ingestor.run(path, progress=False)
                if report.failed:
                    job.status, job.error = "failed", "; ".join(report.failed.values())
                else:
                    job.status, job.chunks = "succeeded", report.chunks
                    job.unchanged = report.unchanged > 0
            except Exception as exc:  # the job reports it; the gateway goes on
                log.warning("document ingestion failed", extra={"job": job.id}, exc_info=True)
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished_at = time.time()
                await ingestor.close()
                await asyncio.to_thread(shutil.rmtree, path.parent, True)


class UnsupportedDocument(InvalidInput):
    """An upload whose type the ingestion pipeline cannot parse (HTTP 415)."""

    code = "unsupported_media_type"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
