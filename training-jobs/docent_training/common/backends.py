"""Optimizer steps with plain PyTorch or through DeepSpeed ZeRO, behind one small interface.

DeepSpeed runs the same LoRA model; its JSON config (training-jobs/deepspeed/) chooses the ZeRO
stage and offload, and the batch fields are filled from the job config. Without a GPU it
uses DeepSpeed's CPU accelerator with the gloo backend and keeps our torch AdamW (DeepSpeed's
compiled CPU Adam is not needed for a toy run).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

from docent_training.common.config import TrainingConfig
from docentlib.errors import InvalidInput

log = logging.getLogger(__name__)


def make_optimizer(model: Any, t: TrainingConfig, total_steps: int) -> tuple[Any, Any]:
    """AdamW on the trainable (LoRA) parameters with linear warm-up then linear decay."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)

    def factor(step: int) -> float:
        if t.warmup_steps and step < t.warmup_steps:
            return (step + 1) / t.warmup_steps
        span = max(1, total_steps - t.warmup_steps)
        return max(0.0, 1.0 - (step - t.warmup_steps) / span) * 0.9 + 0.1

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _autocast(model: Any) -> Any:
    """``model`` called under bfloat16 autocast on the device its weights are on."""
    import torch

    device = next(model.parameters()).device.type

    def forward(*args: Any, **kwargs: Any) -> Any:
        with torch.autocast(device, dtype=torch.bfloat16):
            return model(*args, **kwargs)

    return forward


class TorchBackend:
    """Gradient accumulation, clipping and AdamW in plain PyTorch."""

    name = "torch"

    def __init__(self, model: Any, t: TrainingConfig, total_steps: int) -> None:
        self.model = model
        self.t = t
        self.opt, self.sched = make_optimizer(model, t, total_steps)

    @property
    def forward(self) -> Any:
        if self.t.autocast == "off":
            return self.model
        return _autocast(self.model)

    def backward(self, loss: Any) -> None:
        (loss / self.t.grad_accum).backward()

    def step(self) -> float:
        import torch

        params = [p for p in self.model.parameters() if p.requires_grad]
        norm = torch.nn.utils.clip_grad_norm_(params, self.t.max_grad_norm)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        return float(norm)

    def micro_step(self) -> None:
        """Nothing between micro-batches: gradients accumulate in .grad."""

    def lr(self) -> float:
        return float(self.sched.get_last_lr()[0])

    def save(self, folder: Path) -> None:
        import torch

        self.model.save_pretrained(folder / "adapter")
        torch.save(
            {"optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict()},
            folder / "optimizer.pt",
        )

    def load(self, folder: Path) -> None:
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
        set_peft_model_state_dict(self.model, weights)
        state = torch.load(folder / "optimizer.pt", weights_only=False)
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])


class DeepSpeedBackend:
    """The same loop through a DeepSpeed engine (ZeRO stage from the JSON config)."""

    name = "deepspeed"

    def __init__(self, model: Any, t: TrainingConfig, total_steps: int, config_path: Path) -> None:
        import torch

        if not torch.cuda.is_available():
            os.environ.setdefault("DS_ACCELERATOR", "cpu")
        _single_process_env()
        import deepspeed

        ds = load_deepspeed_config(config_path)
        ds["train_micro_batch_size_per_gpu"] = t.batch_size
        ds["gradient_accumulation_steps"] = t.grad_accum
        ds["gradient_clipping"] = t.max_grad_norm
        ds.pop("train_batch_size", None)
        if not torch.cuda.is_available():
            ds["bf16"] = {"enabled": False}
            ds["fp16"] = {"enabled": False}
            ds["zero_force_ds_cpu_optimizer"] = False
        self.stage = int(ds.get("zero_optimization", {}).get("stage", 0))
        deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo")
        opt = sched = None
        if "optimizer" not in ds:
            opt, sched = make_optimizer(model, t, total_steps)
        params = [p for p in model.parameters() if p.requires_grad]
        self.engine, self.opt, _, self.sched = deepspeed.initialize(
            model=model, model_parameters=params, optimizer=opt, lr_scheduler=sched, config=ds
        )
        self.model = model
        log.info("DeepSpeed ZeRO stage %d (%s)", self.stage, config_path.name)

    @property
    def forward(self) -> Any:
        return self.engine

    def backward(self, loss: Any) -> None:
        self.engine.backward(loss)  # scales by gradient_accumulation_steps itself

    def micro_step(self) -> None:
        self.engine.step()  # a no-op except at the accumulation boundary

    def step(self) -> float:
        self.engine.step()
        norm = self.engine.get_global_grad_norm()
        return float(norm) if norm is not None else float("nan")

    @property
    def global_steps(self) -> int:
        return int(self.engine.global_steps)

    def lr(self) -> float:
        return float(self.engine.get_lr()[0])

    def save(self, folder: Path) -> None:
        self.engine.save_checkpoint(str(folder / "deepspeed"), tag="state")
        self._save_adapter(folder / "adapter")

    def save_adapter(self, folder: Path) -> None:
        self._save_adapter(folder)

    def _save_adapter(self, folder: Path) -> None:
        if self.stage == 3:
            import deepspeed

            params = [p for p in self.model.parameters() if p.requires_grad]
            with deepspeed.zero.GatheredParameters(params, modifier_rank=None):
                self.model.save_pretrained(folder)
        else:
            self.model.save_pretrained(folder)

    def load(self, folder: Path) -> None:
        self.engine.load_checkpoint(str(folder / "deepspeed"), tag="state")


def load_deepspeed_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInput(f"DeepSpeed config not found: {path}")
    try:
        ds = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc
    stage = ds.get("zero_optimization", {}).get("stage")
    if stage not in (0, 1, 2, 3):
        raise InvalidInput(f"{path}: zero_optimization.stage must be 0-3, got {stage!r}")
    return ds


def _single_process_env() -> None:
    """torch.distributed needs these even for one process; torchrun sets them in a pod."""
    if "MASTER_PORT" not in os.environ:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(sock.getsockname()[1])
    for key, value in (
        ("MASTER_ADDR", "127.0.0.1"),
        ("RANK", "0"),
        ("WORLD_SIZE", "1"),
        ("LOCAL_RANK", "0"),
    ):
        os.environ.setdefault(key, value)
