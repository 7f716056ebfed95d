"""Ingestion metrics: how long jobs take and how many fail (RPC metrics come from the runtime)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Jobs run from a fraction of a second (an unchanged file) to many minutes (a large PDF).
JOB_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

JOB_SECONDS = Histogram(
    "docent_ingestion_job_seconds",
    "From an upload's job starting to run to its end, by final status.",
    ["status"],
    buckets=JOB_BUCKETS,
)
JOBS_FAILED = Counter(
    "docent_ingestion_jobs_failed_total",
    "Upload jobs that ended failed (unparseable, a dependency down, or their worker stopped).",
)
