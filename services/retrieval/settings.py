"""Settings of the retrieval service (env prefix ``DOCENT_RETRIEVAL_``)."""

from __future__ import annotations

from typing import Literal

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
    dense_index: Literal["hnsw", "flat", "ivfpq"] = Field(
        "hnsw",
        description="FAISS index: hnsw (graph, approximate, fast), flat (exact), ivfpq "
        "(compressed; exact flat until ivf_nlist*39 vectors exist to train it).",
    )
    hnsw_m: int = Field(32, ge=4, le=256, description="HNSW links per node (memory vs recall).")
    hnsw_ef_construction: int = Field(
        200, ge=8, description="HNSW candidate list while building (build time vs recall)."
    )
    hnsw_ef_search: int = Field(
        128, ge=1, description="HNSW candidate list per search (latency vs recall)."
    )
    ivf_nlist: int = Field(256, ge=1, description="IVF-PQ inverted lists (centroids).")
    ivf_nprobe: int = Field(16, ge=1, description="IVF-PQ lists visited per search.")
    pq_m: int = Field(48, ge=1, description="IVF-PQ sub-quantisers; must divide dim.")
    pq_nbits: int = Field(8, ge=4, le=12, description="IVF-PQ bits per sub-quantiser code.")
    dense_save_interval_s: float = Field(
        5.0,
        ge=0,
        description="Seconds between saves of the dense index during writes (0: after every "
        "write). It is also saved on shutdown; after a crash it is rebuilt from the docstore.",
    )
    fusion: Literal["rrf", "normalized"] = Field(
        "rrf",
        description="How hybrid search merges rankings: rrf (reciprocal rank fusion) or "
        "normalized (min-max normalised scores, weighted sum).",
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
