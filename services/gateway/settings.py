"""Settings of the gateway (env prefix ``DOCENT_GATEWAY_``), validated once at start-up.

One address and one deadline per dependency, so ``docent up`` and the chart can point the
gateway anywhere by environment alone (e.g. ``DOCENT_GATEWAY_RETRIEVAL_ADDRESS``). An address
may name several replicas (a DNS name with one record per pod, or a list of IPs); calls are
spread over them round-robin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.gateway.chat.prompt import DEFAULT_DOMAIN
from services.runtime.channels import grpc_target
from services.runtime.clients import Endpoint
from services.runtime.resilience import CircuitBreaker, RetryPolicy
from services.runtime.settings import default_data_root

DEPENDENCIES = ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion")


def _address(port: int, service: str) -> Any:
    """An address setting: one DNS name, a list of replica IPs, or a gRPC target."""
    return Field(
        f"127.0.0.1:{port}",
        description=f"{service} service: host:port (calls go round-robin over every address "
        "it resolves to), IP:port,IP:port for replicas by IP, or a gRPC target (dns:///...).",
    )


class GatewaySettings(BaseSettings):
    """Usage::

    settings = GatewaySettings(moderation_timeout_s=0.5)
    settings.endpoint("moderation")  # Endpoint("moderation", "127.0.0.1:50054", 0.5)
    """

    model_config = SettingsConfigDict(env_prefix="DOCENT_GATEWAY_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port (REST, SSE and /metrics).")

    embedding_address: str = _address(50051, "Embedding")
    embedding_timeout_s: float = Field(5.0, gt=0, description="Deadline of one Embed call.")
    retrieval_address: str = _address(50052, "Retrieval")
    retrieval_timeout_s: float = Field(5.0, gt=0, description="Deadline of one Search call.")
    reranking_address: str = _address(50053, "Reranking")
    reranking_timeout_s: float = Field(5.0, gt=0, description="Deadline of one Rerank call.")
    moderation_address: str = _address(50054, "Moderation")
    moderation_timeout_s: float = Field(5.0, gt=0, description="Deadline of one Check call.")
    generation_address: str = _address(50055, "Generation")
    generation_timeout_s: float = Field(
        120.0, gt=0, description="Deadline of a whole Generate stream (and of CountTokens)."
    )
    ingestion_address: str = _address(50056, "Ingestion")
    ingestion_timeout_s: float = Field(
        30.0, gt=0, description="Deadline of one Upload (sending the file) or GetJob call."
    )

    request_timeout_s: float = Field(
        15.0, gt=0, description="Bounds every stage before generation starts, all together."
    )
    rpc_attempts: int = Field(
        3,
        ge=1,
        le=5,
        description="Tries of an idempotent RPC failing with UNAVAILABLE, by gRPC's retry policy "
        "(1: none; gRPC allows at most 5).",
    )
    rpc_backoff_s: float = Field(
        0.05, gt=0, le=1, description="Jittered backoff ceiling of the first retry; doubles after."
    )
    breaker_failures: int = Field(
        5, ge=1, description="Consecutive failures of a dependency that open its circuit breaker."
    )
    breaker_reset_s: float = Field(
        10.0, gt=0, description="How long an open breaker fails calls fast before one trial call."
    )
    search_mode: Literal["hybrid", "dense", "sparse"] = Field(
        "hybrid", description="Retrieval mode: hybrid (dense + sparse, fused), dense or sparse."
    )
    retrieval_k: int = Field(20, ge=1, le=200, description="Fused candidates fetched per query.")
    context_passages: int = Field(
        5, ge=1, le=50, description="Passages put in the prompt after reranking."
    )
    max_message_chars: int = Field(
        4000, ge=1, description="Longest user message accepted (after stripping whitespace)."
    )
    max_tokens: int = Field(
        256, ge=1, le=1024, description="Completion budget when a request does not set one."
    )
    history_turns: int = Field(
        4, ge=0, description="Previous user/assistant exchanges carried into the prompt."
    )
    snippet_chars: int = Field(
        400, ge=40, description="Length of the source snippets returned to the client."
    )
    rerank_health_ttl_s: float = Field(
        5.0, ge=0, description="How long the reranker's health check result is trusted."
    )
    readiness_timeout_s: float = Field(
        1.0, gt=0, description="Deadline of each dependency health check in /readyz."
    )
    heartbeat_s: float = Field(
        15.0, gt=0, description="SSE comment sent when no event went out for this long."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (by Content-Length)."
    )
    data_dir: Path = Field(
        default_factory=lambda: default_data_root() / "gateway",
        description="SQLite stores (conversations, keys), uploads; default $DOCENT_HOME/gateway.",
    )
    store: Literal["sqlite", "redis"] = Field(
        "sqlite",
        description="Where conversations, API keys and rate-limit budgets live: sqlite (one "
        "process, under data_dir) or redis (shared by every gateway replica).",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis server (or a cluster node) when store=redis."
    )
    redis_cluster: bool = Field(False, description="Talk to redis_url as a Redis Cluster.")
    conversation_ttl_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="A conversation expires this long after its last turn."
    )
    rewrite_turns: int = Field(
        8, ge=0, description="Previous user turns a follow-up question may refer back to."
    )
    auth: Literal["auto", "required", "disabled"] = Field(
        "auto",
        description="API keys: auto (required once a key exists), required, or disabled.",
    )
    rate_limit_rpm: int = Field(
        60,
        ge=0,
        description="Requests per minute per API key, unless the key sets its own (0: none).",
    )
    rate_limit_tpm: int = Field(
        100_000,
        ge=0,
        description="Tokens per minute per API key, unless the key sets its own (0: none).",
    )
    adapter: str = Field(
        "",
        max_length=128,
        description="LoRA adapter chat answers are generated with, by the name the generation "
        "service serves it under (DOCENT_GENERATION_LORA_ADAPTERS); empty: the base model. The "
        "adapter `docent eval model` promoted (docs/training.md).",
    )
    domain: str = Field(
        DEFAULT_DOMAIN,
        description="What the knowledge base covers, in words for the system prompt and the "
        "out-of-scope refusal ('I answer questions about <domain>'). Scope itself is judged from "
        "the ingested documents, whatever this says.",
    )
    scope_refresh_s: float = Field(
        60.0,
        gt=0,
        description="How often (at most) to check whether the documents changed and, if so, "
        "recalibrate the out-of-scope scale on the knowledge base (docs/safety.md).",
    )
    check_passages: bool = Field(
        True,
        description="Check retrieved passages for prompt injection (dropping injected ones) and "
        "the question for scope, in one moderation call after retrieval.",
    )
    output_moderation: bool = Field(
        True,
        description="Check generated text in a sliding window before it is streamed; stop the "
        "answer and replace it with a refusal on a violation.",
    )
    context_sentences: int = Field(
        6,
        ge=0,
        le=100,
        description="Sentences of each passage the prompt carries: the first, then those that "
        "share most words with the question (0: whole passages). Small models answer better "
        "from a focused context; set 0 for a large model (the chart's GPU profile does).",
    )
    grounding: Literal["drop", "mark", "off"] = Field(
        "drop",
        description="The groundedness guard on the stream: sentences no passage supports are "
        "dropped (drop) or kept and listed in metadata (mark); a repeated sentence or a loop "
        "ends generation; with nothing supported the answer falls back to the passages' "
        "closest sentences, cited (docs/safety.md). off: text streams as generated.",
    )
    output_window_chars: int = Field(
        400, ge=20, le=20_000, description="Length of the sliding window of output that is checked."
    )
    leak_span_words: int = Field(
        8,
        ge=3,
        description="Consecutive words of the system prompt in the output that count as a leak.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_json: bool = Field(True, description="One JSON object per log line.")
    otlp_endpoint: str | None = Field(
        None, description="OTLP/gRPC collector endpoint; tracing is off when unset."
    )

    @field_validator(*(f"{d}_address" for d in DEPENDENCIES))
    @classmethod
    def _address_is_a_target(cls, value: str) -> str:
        """A typo in an address fails at start-up, naming the variable, not at the first call."""
        grpc_target(value)
        return value

    def resilience(self, dependency: str) -> tuple[RetryPolicy, CircuitBreaker]:
        """The retry policy and a fresh circuit breaker for ``dependency``'s client."""
        return (
            RetryPolicy(self.rpc_attempts, self.rpc_backoff_s, 1.0),
            CircuitBreaker(dependency, self.breaker_failures, self.breaker_reset_s),
        )

    def endpoint(self, dependency: str) -> Endpoint:
        """The :class:`Endpoint` of ``dependency`` (one of :data:`DEPENDENCIES`)."""
        if dependency not in DEPENDENCIES:
            raise ValueError(f"dependency must be one of {DEPENDENCIES}, got {dependency!r}")
        return Endpoint(
            dependency,
            getattr(self, f"{dependency}_address"),
            getattr(self, f"{dependency}_timeout_s"),
        )
