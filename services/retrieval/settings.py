"""Settings of the retrieval service (env prefix ``DOCENT_RETRIEVAL_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class RetrievalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_RETRIEVAL_", extra="ignore")

    service_name: str = Field("retrieval", description="Name used in logs, metrics and traces.")
    port: int = Field(50052, ge=0, le=65535, description="gRPC port (0 picks a free one).")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Prometheus /metrics port.")
    dim: int = Field(
        384, ge=1, description="Embedding dimension; every chunk and query vector must match it."
    )
    rrf_k: int = Field(
        60, ge=0, description="Reciprocal rank fusion constant: larger flattens rank differences."
    )
    fetch_depth: int = Field(
        50, ge=1, description="Hits each retriever contributes before fusion (at least k)."
    )
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion.")
    sparse_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    max_k: int = Field(100, ge=1, description="Largest k a search may ask for.")
