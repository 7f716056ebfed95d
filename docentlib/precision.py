"""Which floating-point precision a model runs in: one rule for every service and job."""

from __future__ import annotations


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` picks bfloat16 where the hardware computes it natively (CUDA, or CPUs with
    AMX or AVX512-BF16, where it is several times faster), else float32."""
    if dtype != "auto":
        return dtype
    import torch

    if device.startswith("cuda"):
        return "bfloat16"
    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    return "bfloat16" if native else "float32"
