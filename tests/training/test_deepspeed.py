"""One DeepSpeed run: ZeRO stage 2 on DeepSpeed's CPU accelerator takes real optimizer steps
(with gradient accumulation), checkpoints through the engine and saves the adapter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docent_training.common.metrics import read_metrics
from tests.conftest import REPO
from tests.training.conftest import write_config
from tests.training.toy_data import write_sft

pytestmark = pytest.mark.training


def test_zero2_on_cpu_takes_optimizer_steps(smollm2_path: Path, tmp_path: Path) -> None:
    write_sft(tmp_path / "data", n_train=8, n_eval=1)
    config = write_config(
        tmp_path / "ds.json.yaml",
        kind="sft",
        model=smollm2_path,
        output_dir="out",
        data={"train": "data/sft-train.jsonl", "max_length": 64},
        quantization=None,
        lora={"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
        deepspeed="zero2.json",  # the shipped training-jobs/deepspeed/zero2.json
        training={"max_steps": 2, "batch_size": 2, "grad_accum": 2, "learning_rate": 1e-3,
                  "gradient_checkpointing": False, "threads": 2},
    )  # fmt: skip
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "TOKENIZERS_PARALLELISM": "false"}
    run = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "train", "sft", "--config", str(config),
         "--no-progress"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "trained 2 steps" in run.stdout and "with deepspeed" in run.stdout
    rows = [r for r in read_metrics(tmp_path / "out" / "metrics.jsonl") if r["split"] == "train"]
    assert [r["step"] for r in rows] == [1, 2]
    assert all(r["grad_norm"] is not None and r["grad_norm"] > 0 for r in rows)
    ckpt = tmp_path / "out" / "checkpoints" / "step-000002"
    # The engine's own checkpoint, with ZeRO-partitioned optimizer states.
    assert list((ckpt / "deepspeed" / "state").glob("*zero*optim_states.pt"))
    assert json.loads((tmp_path / "out" / "result.json").read_text())["backend"] == "deepspeed"
    assert (tmp_path / "out" / "adapter" / "adapter_model.safetensors").is_file()
