"""Settings of the retrieval service (env prefix ``DOCENT_RETRIEVAL_``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,254}")


class RetrievalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_RETRIEVAL_", extra="ignore")

    service_name: str = Field("retrieval", description="Name used in logs, metrics and traces.")
    port: int = Field(50052, ge=0, le=65535, description="gRPC port (0 picks a free one).")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Prometheus /metrics port.")
    dim: int = Field(
        384, ge=1, description="Embedding dimension; every chunk and query vector must match it."
    )
    store: Literal["embedded", "opensearch"] = Field(
        "embedded",
        description="Where chunks, vectors and BM25 live: `embedded` (SQLite docstore + FAISS + "
        "tantivy in the data dir; one replica) or `opensearch` (everything in an OpenSearch "
        "cluster; replicas hold no state). See docs/opensearch.md.",
    )
    dense_index: Literal["hnsw", "flat", "ivfpq"] = Field(
        "hnsw",
        description="FAISS index of the embedded store: hnsw (graph, approximate, fast), flat "
        "(exact), ivfpq (compressed; exact flat until ivf_nlist*39 vectors exist to train it).",
    )
    hnsw_m: int = Field(
        32,
        ge=4,
        le=256,
        description="HNSW links per node (memory vs recall); FAISS's, and OpenSearch's `m`.",
    )
    hnsw_ef_construction: int = Field(
        200,
        ge=8,
        description="HNSW candidate list while building (build time vs recall); FAISS's, and "
        "OpenSearch's `ef_construction`.",
    )
    hnsw_ef_search: int = Field(
        128,
        ge=1,
        description="HNSW candidate list per search (latency vs recall); FAISS's, and "
        "OpenSearch's `ef_search` (faiss, nmslib; lucene uses the search's k instead).",
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
    sparse_backend: Literal["tantivy", "opensearch"] = Field(
        "tantivy",
        description="BM25 engine of the embedded store: `tantivy` (in the data dir) or "
        "`opensearch` (only BM25 in a cluster, one index per docstore; see docs/opensearch.md).",
    )
    opensearch_hosts: str = Field(
        "http://127.0.0.1:9200",
        description="OpenSearch node URLs, comma-separated (`https://` turns TLS on).",
    )
    opensearch_index: str = Field(
        "docent-chunks",
        description="OpenSearch index of the chunks. STORE=opensearch: shared by every replica, "
        "documents in `<index>-documents`. SPARSE_BACKEND=opensearch: one per docstore.",
    )
    opensearch_username: str | None = Field(
        None, description="OpenSearch basic-auth user; no auth when unset."
    )
    opensearch_password: SecretStr | None = Field(
        None, description="OpenSearch basic-auth password (never logged)."
    )
    opensearch_verify_certs: bool = Field(
        True, description="Verify the OpenSearch TLS certificate (https hosts)."
    )
    opensearch_ca_certs: Path | None = Field(
        None, description="CA bundle for the OpenSearch certificate; certifi's when unset."
    )
    opensearch_timeout_s: float = Field(
        10.0, gt=0, description="Timeout of each OpenSearch request (search, count, refresh)."
    )
    opensearch_bulk_timeout_s: float = Field(
        120.0, gt=0, description="Timeout of each OpenSearch bulk write and of clearing the index."
    )
    opensearch_max_retries: int = Field(
        2, ge=0, description="Retries of a request on another host after a connection error."
    )
    opensearch_bulk_chunk: int = Field(
        500, ge=1, description="Chunks (index or delete operations) per OpenSearch bulk request."
    )
    opensearch_shards: int = Field(
        1, ge=1, description="Primary shards of the index when docent creates it."
    )
    opensearch_replicas: int = Field(
        1, ge=0, description="Replica shards of the index when docent creates it."
    )
    opensearch_bm25_k1: float = Field(
        1.2, ge=0, description="BM25 k1 (term-frequency saturation) of the OpenSearch index."
    )
    opensearch_bm25_b: float = Field(
        0.75, ge=0, le=1, description="BM25 b (length normalisation) of the OpenSearch index."
    )
    opensearch_knn_engine: Literal["faiss", "lucene", "nmslib"] = Field(
        "faiss",
        description="k-NN engine of the `knn_vector` field (HNSW), STORE=opensearch: faiss, "
        "lucene, or nmslib (deprecated by OpenSearch).",
    )
    opensearch_knn_space: Literal["innerproduct", "cosinesimil", "l2"] = Field(
        "innerproduct",
        description="k-NN space, STORE=opensearch. Vectors are stored unit-length, so all three "
        "rank alike; faiss needs OpenSearch 2.19+ for cosinesimil, lucene 2.13+ for innerproduct.",
    )
    opensearch_startup_timeout_s: float = Field(
        120.0,
        ge=0,
        description="At start-up, how long to retry (exponential backoff) while OpenSearch is "
        "unreachable or not ready; the service stays NOT_SERVING meanwhile and fails after it.",
    )
    opensearch_replace_grace_s: float = Field(
        2.0,
        ge=0,
        description="STORE=opensearch: for this long after a document's new version lands, a "
        "search whose view found only the previous version's chunks still returns them (see "
        "docs/opensearch.md); also the clock skew tolerated between replicas.",
    )
    opensearch_orphan_grace_s: float = Field(
        600.0,
        gt=0,
        description="STORE=opensearch: chunks of an upsert that never completed (its replica "
        "died) are deleted at the document's next write once older than this.",
    )

    @field_validator("opensearch_hosts")
    @classmethod
    def _hosts_are_urls(cls, value: str) -> str:
        hosts = [h.strip() for h in value.split(",") if h.strip()]
        bad = [
            h
            for h in hosts
            if urlsplit(h).scheme not in ("http", "https") or not urlsplit(h).hostname
        ]
        if not hosts or bad:
            raise ValueError(f"expected comma-separated http(s)://host:port URLs, got {value!r}")
        return value

    @field_validator("opensearch_index")
    @classmethod
    def _valid_index_name(cls, value: str) -> str:
        if not _INDEX_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid OpenSearch index name (lower case letters, digits, "
                "'-', '_', '.'; not starting with '-', '_' or '+')"
            )
        return value

    def opensearch_host_list(self) -> list[str]:
        """The OpenSearch hosts as a list, for the client."""
        return [h.strip() for h in self.opensearch_hosts.split(",") if h.strip()]
