"""Ingestion's settings that differ from the other services' on purpose."""

from __future__ import annotations

from services.embedding.settings import EmbeddingSettings
from services.ingestion.settings import IngestSettings


def test_a_long_ingest_path_outlives_a_connection_closed_for_age() -> None:
    """IngestPath holds one RPC for a whole folder: with the 150 s grace of the other services,
    `docent up --ingest` of the 1,672 Kubernetes pages ended "max connection age" after
    about 3.5 minutes (seen 2026-12-07)."""
    ingest, other = IngestSettings(), EmbeddingSettings()
    assert other.max_connection_age_grace_s == 150.0
    assert ingest.max_connection_age_grace_s >= 3600.0
    assert ingest.max_connection_age_s == other.max_connection_age_s  # still rebalanced
