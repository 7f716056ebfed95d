"""Job records: what became of each upload, readable by every replica of the service.

A :class:`JobStore` keeps them; :data:`JOB_STORES` picks one by the ``job_store`` setting
(``sqlite`` for one local process, ``redis`` for a cluster). A replica renews the lease of the
jobs it runs; a queued or running job whose lease lapsed belonged to a replica that died, and
:meth:`JobStore.fail_abandoned` marks it failed instead of leaving it "running" forever.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from docentlib.registry import Registry

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)
ABANDONED = "worker stopped before the job finished"


@dataclass
class Job:
    """One upload's ingestion; ``lease_until`` is when its replica must next renew it."""

    id: str
    owner: str
    filename: str
    doc_id: str
    status: str = QUEUED
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    chunks: int = 0
    unchanged: bool = False
    error: str | None = None
    lease_until: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def finish(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.finished_at = status, error, time.time()


class JobStore(Protocol):
    """Where job records live. Every method is safe to call from several replicas."""

    async def open(self) -> None:
        """Connect or create the schema."""

    async def close(self) -> None: ...

    async def put(self, job: Job) -> None:
        """Create or replace the record of ``job``."""

    async def get(self, job_id: str) -> Job | None: ...

    async def list(self, owner: str, limit: int) -> list[Job]:
        """``owner``'s jobs, newest first."""

    async def fail_abandoned(self, now: float, reason: str) -> int:
        """Mark failed every unfinished job whose lease ended before ``now``; how many."""


JOB_STORES: Registry[Any] = Registry(
    "ingestion job store",
    {
        "sqlite": "services.ingestion.job_stores:SqliteJobStore.from_settings",
        "redis": "services.ingestion.job_stores:RedisJobStore.from_settings",
    },
)
