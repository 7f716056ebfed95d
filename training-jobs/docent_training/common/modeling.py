"""Load the base model for training: resolve it, quantise it (QLoRA), pick attention, add LoRA.

The same function serves a GPU pod (4-bit NF4 with double quantisation, bf16 compute,
FlashAttention 2) and this CPU machine (bitsandbytes' CPU backend, fp32 compute, SDPA).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docent_training.common.config import JobConfig, QuantizationConfig
from docentlib.errors import InvalidInput, Unavailable
from services.runtime.settings import default_data_root

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    model: Any  # a PeftModel with one trainable adapter
    tokenizer: Any
    base_path: Path
    quantized: bool
    attn_implementation: str


def resolve_base(name_or_path: str, cache_dir: Path | None = None) -> Path:
    """A Hugging Face folder for ``name_or_path``; a packaged GGUF is converted once and cached."""
    from docentlib.model_store import PACKAGED_GGUF, resolve_llm

    path = Path(name_or_path).expanduser()
    if name_or_path not in PACKAGED_GGUF and (path / "config.json").is_file():
        return path
    if name_or_path not in PACKAGED_GGUF and not path.exists():
        raise InvalidInput(f"model {name_or_path!r} is neither a packaged model nor a folder")
    # The same cache the generation service converts into, so a GGUF is converted once.
    cache = cache_dir or default_data_root() / "generation" / "models"
    return resolve_llm(_BaseModel(name_or_path, None, cache)).path


@dataclass
class _BaseModel:
    """The base model as :func:`docentlib.model_store.resolve_llm` takes it."""

    model: str
    gguf_file: str | None
    cache_dir: Path

    def resolved_model_cache_dir(self) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir


def attention_implementation(forced: str | None = None) -> str:
    """FlashAttention 2 where the package and a GPU are there, else PyTorch SDPA."""
    import torch

    if forced:
        return forced
    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def four_bit_supported() -> tuple[bool, str]:
    """Whether bitsandbytes can quantise to NF4 on this machine (GPU, or its CPU backend)."""
    try:
        import bitsandbytes.functional as bnbf
        import torch
    except ImportError as exc:
        return False, f"bitsandbytes is not installed ({exc})"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        probe = torch.randn(64, 64, device=device)
        packed, state = bnbf.quantize_4bit(probe, quant_type="nf4", compress_statistics=True)
        back = bnbf.dequantize_4bit(packed, state)
    except Exception as exc:  # no kernel for this device
        return False, f"bitsandbytes has no 4-bit kernel for {device}: {exc}"
    if not torch.allclose(back.float(), probe, atol=0.5):
        return False, "bitsandbytes 4-bit round trip is wrong on this machine"
    return True, device


def compute_dtype(q: QuantizationConfig) -> Any:
    import torch

    if q.compute_dtype == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return getattr(torch, q.compute_dtype)


def load_for_training(config: JobConfig, adapter: Path | None = None) -> Loaded:
    """Base (4-bit when configured and possible) + a trainable LoRA (new, or ``adapter``)."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    base = resolve_base(config.model, config.model_cache_dir)
    attn = attention_implementation(config.attn_implementation)
    kwargs: dict[str, Any] = {"attn_implementation": attn}
    q = config.quantization
    quantized = False
    if q is not None and q.load_in_4bit:
        ok, why = four_bit_supported()
        if ok:
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type=q.quant_type,
                bnb_4bit_use_double_quant=q.double_quant,
                bnb_4bit_compute_dtype=compute_dtype(q),
            )
            if config.deepspeed is not None:  # ZeRO-3 shards parameters of one float dtype
                kwargs["quantization_config"].bnb_4bit_quant_storage = compute_dtype(q)
            kwargs["device_map"] = {"": 0} if torch.cuda.is_available() else "cpu"
            quantized = True
        elif q.fallback_on_cpu:
            log.warning("QLoRA 4-bit unavailable (%s): training LoRA on an fp32 base instead", why)
        else:
            raise Unavailable(f"4-bit quantisation unavailable: {why}")
    if not quantized:
        kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    try:
        model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True, **kwargs)
    except (OSError, ValueError, ImportError) as exc:
        raise Unavailable(f"cannot load {base}: {exc}") from exc
    model.config.use_cache = False
    if quantized:
        _keep_trainable_packing(model)
    checkpointing = config.training.gradient_checkpointing
    if quantized:
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    elif checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    if adapter is not None:
        if not (adapter / "adapter_config.json").is_file():
            raise InvalidInput(f"no LoRA adapter (adapter_config.json) in {adapter}")
        model = PeftModel.from_pretrained(model, adapter, is_trainable=True)
    else:
        lora = config.lora
        model = get_peft_model(
            model,
            LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=lora.target_modules,
                layers_to_transform=lora.layers,
                task_type="CAUSAL_LM",
            ),
        )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info(
        "model ready: %s, %s, attention %s, LoRA %d of %d parameters trainable",
        base,
        "4-bit NF4" if quantized else str(kwargs.get("dtype")),
        attn,
        trainable,
        total,
    )
    return Loaded(model, tokenizer, base, quantized, attn)


def _keep_trainable_packing(model: Any) -> None:
    """Stop bitsandbytes repacking 4-bit weights for CPU inference during an eval pass.

    Its AVX512-BF16 layout is inference-only (no autograd kernel); once a held-out evaluation
    in eval mode triggered it, backward through the frozen base would be silently wrong.
    """
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
