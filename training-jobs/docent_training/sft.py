"""Supervised fine-tuning with QLoRA: ``docent train sft --config FILE``.

Writes to ``output_dir``: ``adapter/`` (PEFT LoRA, what serving and ``train merge`` take),
``checkpoints/``, ``metrics.jsonl``, ``learning_curve.png`` and ``result.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from docent_training.common.config import JobConfig
from docent_training.common.data import collate, load_sft
from docent_training.common.loop import Trainer, TrainResult
from docent_training.common.metrics import plot_curves
from docent_training.common.modeling import load_for_training

log = logging.getLogger(__name__)


def train_sft(
    config: JobConfig, progress: bool = True, on_step: Callable[[int], None] | None = None
) -> TrainResult:
    loaded = load_for_training(config)
    tok = loaded.tokenizer
    data = config.data
    train = load_sft(data.train, tok, data.format, data.max_length, data.loss_on)
    held_out = (
        load_sft(data.eval, tok, data.format, data.max_length, data.loss_on)
        if config.data.eval
        else []
    )
    pad = tok.pad_token_id

    def loss_fn(forward: Any, batch: list[Any]) -> tuple[Any, dict[str, float]]:
        inputs = collate(batch, pad)
        out = forward(**inputs)
        return out.loss, {"tokens": float((inputs["labels"] != -100).sum())}

    def evaluate(forward: Any) -> dict[str, float]:
        losses = [
            float(forward(**collate(held_out[i : i + 8], pad)).loss)
            for i in range(0, len(held_out), 8)
        ]
        return {"loss": sum(losses) / len(losses)}

    trainer = Trainer(
        loaded.model,
        config,
        train,
        loss_fn,
        evaluate if held_out else None,
        on_step=on_step,
        meta={"kind": "sft", "quantized": loaded.quantized},
    )
    result = trainer.run(progress)
    finish(config, result, "sft", loaded, ("loss",))
    return result


def finish(config: JobConfig, result: TrainResult, kind: str, loaded: Any, keys: tuple) -> None:
    """Provenance beside the adapter, the curves PNG and result.json."""
    info = {
        "kind": kind,
        "base_model": str(loaded.base_path),
        "model": config.model,
        "quantized_4bit": loaded.quantized,
        "attn_implementation": loaded.attn_implementation,
        "steps": result.steps,
    }
    (result.adapter / "docent-adapter.json").write_text(json.dumps(info, indent=2) + "\n")
    plot_curves(
        config.output_dir / "metrics.jsonl",
        config.output_dir / "learning_curve.png",
        keys,
        f"{kind}: {config.model}",
    )
    row = {**asdict(result), **info}
    row["adapter"] = str(result.adapter)
    (config.output_dir / "result.json").write_text(json.dumps(row, indent=2) + "\n")
