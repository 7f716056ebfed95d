"""Settings of the ingestion client (env prefix ``DOCENT_INGEST_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_INGEST_", extra="ignore")

    embedding_address: str = Field("127.0.0.1:50051", description="Embedding service address.")
    retrieval_address: str = Field("127.0.0.1:50052", description="Retrieval service address.")
    timeout_s: float = Field(120.0, gt=0, description="Deadline of one Embed or Upsert call.")
    batch_chunks: int = Field(
        128, ge=1, description="Chunks embedded per Embed call (whole documents per batch)."
    )
    max_chars: int = Field(1000, ge=100, description="Largest chunk, in characters.")
    overlap_chars: int = Field(150, ge=0, description="Overlap between pieces of a section.")
