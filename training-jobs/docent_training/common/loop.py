"""The training loop every job shares: batches, steps, metrics, checkpoints, resume, SIGTERM.

A Kubernetes Job's pod is stopped with SIGTERM (preemption, node drain): the loop finishes the
step it is in, writes a checkpoint and exits 143, and the Job's retry resumes from it on the
same volume. A SIGKILL loses at most ``save_steps`` steps. Data order is a pure function of
(seed, sample number), so a resumed run sees exactly the batches the first run would have.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from docent_training.common.backends import DeepSpeedBackend, TorchBackend
from docent_training.common.checkpoint import (
    latest_checkpoint,
    publish_dir,
    read_state,
    write_checkpoint,
)
from docent_training.common.config import JobConfig
from docent_training.common.metrics import MetricsLog

log = logging.getLogger(__name__)

LossFn = Callable[[Any, list[Any]], tuple[Any, dict[str, float]]]
EvalFn = Callable[[Any], dict[str, float]]


class Interrupted(Exception):
    """SIGTERM arrived; a checkpoint at ``step`` was written."""

    def __init__(self, step: int, checkpoint: Path) -> None:
        super().__init__(f"interrupted at step {step}; checkpoint {checkpoint}")
        self.step = step
        self.checkpoint = checkpoint


@dataclass
class TrainResult:
    adapter: Path
    steps: int
    resumed_from: int
    seconds: float
    first_loss: float | None
    last_loss: float | None
    backend: str
    eval_before: dict[str, float] = field(default_factory=dict)
    eval_after: dict[str, float] = field(default_factory=dict)


class Trainer:
    """Runs ``loss_fn`` over ``items`` for the configured number of optimizer steps."""

    def __init__(
        self,
        model: Any,
        config: JobConfig,
        items: list[Any],
        loss_fn: LossFn,
        evaluate: EvalFn | None = None,
        meta: dict[str, Any] | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        self.model = model
        self.on_step = on_step  # called after each step (tests interrupt through it)
        self.config = config
        self.items = items
        self.loss_fn = loss_fn
        self.evaluate = evaluate
        self.meta = meta or {}
        t = config.training
        per_step = t.batch_size * t.grad_accum
        self.total_steps = t.max_steps or max(1, math.ceil(t.epochs * len(items) / per_step))
        self.out = config.output_dir
        self._stop = threading.Event()

    def _batch(self, micro_index: int) -> list[Any]:
        n, b = len(self.items), self.config.training.batch_size
        picked = []
        for k in range(micro_index * b, micro_index * b + b):
            order = list(range(n))
            random.Random(self.config.training.seed * 1_000_003 + k // n).shuffle(order)
            picked.append(self.items[order[k % n]])
        return picked

    def run(self, progress: bool = True) -> TrainResult:
        import torch

        t = self.config.training
        if t.threads:
            torch.set_num_threads(t.threads)
        torch.manual_seed(t.seed)
        if self.config.deepspeed is not None:
            backend: Any = DeepSpeedBackend(self.model, t, self.total_steps, self.config.deepspeed)
        else:
            backend = TorchBackend(self.model, t, self.total_steps)
        start = 0
        resume = latest_checkpoint(self.out)
        if resume is not None:
            backend.load(resume)
            start = int(read_state(resume)["step"])
            log.info("resuming from %s (step %d)", resume, start)
        metrics = MetricsLog(self.out / "metrics.jsonl", resume_step=start)
        result = TrainResult(self.out / "adapter", start, start, 0.0, None, None, backend.name)
        if self.evaluate is not None and start == 0:
            result.eval_before = self._eval(backend, metrics, 0)
        self._install_sigterm()
        began = time.monotonic()
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=start, desc="train", disable=not progress)
        try:
            for step in range(start + 1, self.total_steps + 1):
                loss, values = self._one_step(backend, step)
                result.first_loss = loss if result.first_loss is None else result.first_loss
                result.last_loss, result.steps = loss, step
                if step % t.log_steps == 0 or step == self.total_steps:
                    metrics.write(step, loss=loss, lr=backend.lr(), **values)
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                if self.on_step is not None:
                    self.on_step(step)
                if self._stop.is_set():
                    folder = self._checkpoint(backend, step)
                    raise Interrupted(step, folder)
                if step % t.save_steps == 0 and step < self.total_steps:
                    self._checkpoint(backend, step)
        finally:
            bar.close()
            self._restore_sigterm()
        result.seconds = time.monotonic() - began
        self.model.eval()
        if self.evaluate is not None:
            result.eval_after = self._eval(backend, metrics, result.steps)
        self._checkpoint(backend, result.steps)
        save = getattr(backend, "save_adapter", self.model.save_pretrained)
        publish_dir(save, result.adapter)
        return result

    def _one_step(self, backend: Any, step: int) -> tuple[float, dict[str, float]]:
        t = self.config.training
        total, sums = 0.0, {}
        for micro in range(t.grad_accum):
            batch = self._batch((step - 1) * t.grad_accum + micro)
            loss, values = self.loss_fn(backend.forward, batch)
            backend.backward(loss)
            if micro < t.grad_accum - 1:
                backend.micro_step()
            total += float(loss.detach()) / t.grad_accum
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + v / t.grad_accum
        sums["grad_norm"] = backend.step()
        return total, sums

    def _eval(self, backend: Any, metrics: MetricsLog, step: int) -> dict[str, float]:
        import torch

        assert self.evaluate is not None
        self.model.eval()
        with torch.no_grad():
            values = self.evaluate(backend.forward)
        self.model.train()
        metrics.write(step, split="eval", **values)
        return values

    def _checkpoint(self, backend: Any, step: int) -> Path:
        return write_checkpoint(
            self.out,
            step,
            {"total_steps": self.total_steps, **self.meta},
            backend.save,
            self.config.training.keep_checkpoints,
        )

    def _install_sigterm(self) -> None:
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, lambda *_: self._stop.set())

    def _restore_sigterm(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
