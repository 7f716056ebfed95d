"""Settings of the moderation service (env prefix ``DOCENT_MODERATION_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class ModerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_MODERATION_", extra="ignore")

    service_name: str = "moderation"
    port: int = 50054
    metrics_port: int = 9104
    toxicity_backend: str = Field(
        "profanity-check", description="Toxicity classifier; one of: profanity-check."
    )
    toxicity_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Block when the toxicity score reaches this."
    )
    max_text_chars: int = Field(100_000, ge=1, description="Longest text accepted.")
