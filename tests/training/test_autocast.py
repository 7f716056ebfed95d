"""``training.autocast: bf16``: forward passes run in bfloat16 autocast; weights stay float32."""

from __future__ import annotations

import pytest
import torch

from docent_training.common.backends import TorchBackend
from docent_training.common.config import TrainingConfig


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


@pytest.mark.parametrize(("autocast", "dtype"), [("off", torch.float32), ("bf16", torch.bfloat16)])
def test_forward_runs_in_the_configured_precision(autocast: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = Tiny()
    backend = TorchBackend(model, TrainingConfig(autocast=autocast), total_steps=2)
    x = torch.randn(3, 8)
    out = backend.forward(x)
    assert out.dtype == dtype
    # Close to the float32 result, and gradients reach the float32 weights.
    assert torch.allclose(out.float(), model(x), atol=0.05)
    backend.backward(out.float().pow(2).mean())
    assert model.layer.weight.grad is not None and model.layer.weight.dtype == torch.float32
    backend.step()


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="autocast"):
        TrainingConfig(autocast="fp8")
