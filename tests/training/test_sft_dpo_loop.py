"""The loop for real at toy scale on SmolLM2-135M: QLoRA SFT, merge, the merged model answers,
DPO from the SFT adapter (interrupted by a real SIGTERM, then resumed), the evaluation gate,
and the adapter served by name by the generation engine."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.common.config import load_config
from docent_training.common.loop import Interrupted
from docent_training.common.metrics import read_metrics
from docent_training.dpo import train_dpo
from docent_training.evaluate import exact_match, generate, load_lm
from tests.training.conftest import write_config
from tests.training.toy_data import qa_eval, write_dpo, write_sft

pytestmark = pytest.mark.training
runner = CliRunner()
SFT_STEPS, DPO_STEPS, INTERRUPT_AT = 5, 6, 2
PNG = b"\x89PNG\r\n\x1a\n"
PROJECTIONS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("loop")


@pytest.fixture(scope="module")
def sft(work: Path, smollm2_path: Path) -> dict:
    _, held = write_sft(work / "data")
    config = write_config(
        work / "sft.yaml",
        kind="sft",
        model=smollm2_path,
        output_dir="out/sft",
        data={"train": "data/sft-train.jsonl", "eval": "data/sft-eval.jsonl", "max_length": 64},
        quantization={"load_in_4bit": True, "compute_dtype": "float32"},
        lora={"r": 16, "alpha": 32, "dropout": 0.0},
        training={"max_steps": SFT_STEPS, "batch_size": 4, "learning_rate": 2e-3,
                  "save_steps": 4, "threads": 2},
    )  # fmt: skip
    result = runner.invoke(app, ["train", "sft", "--config", str(config), "--no-progress"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in held.read_text().splitlines()]
    return {"out": work / "out" / "sft", "output": result.output, "held": records}


def test_qlora_loss_falls_and_the_adapter_is_saved(sft: dict) -> None:
    rows = read_metrics(sft["out"] / "metrics.jsonl")
    train = [r["loss"] for r in rows if r["split"] == "train"]
    held = [r["loss"] for r in rows if r["split"] == "eval"]
    line = (
        f"SFT: train loss {train[0]:.3f} -> {train[-1]:.3f}, "
        f"held-out {held[0]:.3f} -> {held[-1]:.3f}"
    )
    print(f"\n{line}")
    assert [r["step"] for r in rows if r["split"] == "train"] == list(range(1, SFT_STEPS + 1))
    assert train[-1] < 0.5 * train[0] and held[-1] < 0.5 * held[0], line
    info = json.loads((sft["out"] / "adapter" / "docent-adapter.json").read_text())
    assert info["quantized_4bit"] is True  # bitsandbytes NF4 + double quant ran on this CPU
    assert info["attn_implementation"] in ("sdpa", "flash_attention_2")
    cfg = json.loads((sft["out"] / "adapter" / "adapter_config.json").read_text())
    assert cfg["r"] == 16 and set(cfg["target_modules"]) == PROJECTIONS
    assert (sft["out"] / "learning_curve.png").read_bytes()[:8] == PNG
    assert (sft["out"] / "checkpoints" / f"step-{SFT_STEPS:06d}" / "optimizer.pt").is_file()


def prompt_of(record: dict) -> list[dict]:
    return record["messages"][:-1]


def answer_of(record: dict) -> str:
    return record["messages"][-1]["content"]


@pytest.fixture(scope="module")
def merged(sft: dict, work: Path) -> Path:
    out = work / "merged"
    result = runner.invoke(
        app, ["train", "merge", "--adapter", str(sft["out"] / "adapter"), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_merged_model_answers_held_out_questions(
    merged: Path, smollm2_path: Path, sft: dict
) -> None:
    lm, tok = load_lm(str(merged))
    base, _ = load_lm(str(smollm2_path))
    held = sft["held"]
    tuned = [exact_match(generate(lm, tok, prompt_of(r), 6), answer_of(r)) for r in held]
    plain = [exact_match(generate(base, tok, prompt_of(r), 6), answer_of(r)) for r in held]
    print(f"\nmerged exact match {sum(tuned)}/{len(held)}, base {sum(plain)}/{len(held)}")
    assert sum(tuned) >= len(held) - 1 and sum(tuned) > sum(plain)


def test_eval_gate_passes_the_adapter_and_fails_a_regression(
    sft: dict, merged: Path, smollm2_path: Path, work: Path
) -> None:
    data = qa_eval(work / "data", n=6)
    gate = ["eval", "model", "--data", str(data), "--max-new-tokens", "6", "--no-progress"]
    ok = runner.invoke(
        app,
        [*gate, "--base", str(smollm2_path), "--candidate", str(sft["out"] / "adapter"),
         "--report", str(work / "gate" / "pass")],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    report = json.loads((work / "gate" / "pass.json").read_text())
    win, em = report["win_rate"], (report["base_metric"], report["candidate_metric"])
    print(f"\ngate: win rate {win:.2f}, exact match {em[0]:.2f} -> {em[1]:.2f}")
    assert report["passed"] and report["win_rate"] >= 0.6
    assert (work / "gate" / "pass.md").read_text().startswith("# Evaluation gate: PASSED")
    worse = runner.invoke(
        app,
        [*gate, "--base", str(merged), "--candidate", str(smollm2_path),
         "--report", str(work / "gate" / "fail.json")],
    )  # fmt: skip
    assert worse.exit_code == 1, worse.output
    assert "FAILED" in worse.output


async def test_the_adapter_is_served_by_name(sft: dict, smollm2_path: Path, tmp_path: Path) -> None:
    from services.generation.engines.base import ChatMessage, Finish, SamplingParams
    from services.generation.engines.transformers_engine import TransformersEngine
    from services.generation.settings import GenerationSettings

    record = sft["held"][0]
    settings = GenerationSettings(
        model=str(smollm2_path),
        data_dir=tmp_path,
        threads=2,
        lora_adapters={"ports-v1": str(sft["out"] / "adapter")},
    )
    engine = await TransformersEngine.load(settings)
    chat = [ChatMessage(m["role"], m["content"]) for m in prompt_of(record)]

    async def answer(adapter: str | None) -> str:
        params = SamplingParams(max_tokens=6, adapter=adapter)
        items = [i async for i in engine.stream(chat, params)]
        return "".join(i.text for i in items if not isinstance(i, Finish))

    try:
        tuned, base = await answer("ports-v1"), await answer(None)
    finally:
        await engine.close()
    assert exact_match(tuned, answer_of(record)), tuned
    assert not exact_match(base, answer_of(record)), base


@pytest.fixture(scope="module")
def dpo(sft: dict, work: Path, smollm2_path: Path) -> dict:
    write_dpo(work / "data")
    config = write_config(
        work / "dpo.yaml",
        kind="dpo",
        model=smollm2_path,
        adapter=sft["out"] / "adapter",
        output_dir="out/dpo",
        data={"train": "data/dpo-train.jsonl", "eval": "data/dpo-eval.jsonl", "max_length": 64},
        quantization=None,
        dpo={"beta": 0.1},
        training={"max_steps": DPO_STEPS, "batch_size": 4, "learning_rate": 1e-3,
                  "save_steps": 10, "threads": 2},
    )  # fmt: skip

    def interrupt(step: int) -> None:  # a real SIGTERM, as Kubernetes sends on preemption
        if step == INTERRUPT_AT:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Interrupted) as stopped:
        train_dpo(load_config(config, "dpo"), progress=False, on_step=interrupt)
    result = runner.invoke(app, ["train", "dpo", "--config", str(config), "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = read_metrics(work / "out" / "dpo" / "metrics.jsonl")
    return {"out": work / "out" / "dpo", "rows": rows, "output": result.output,
            "stopped": stopped.value}  # fmt: skip


def test_sigterm_checkpoints_and_the_rerun_resumes_where_it_stopped(dpo: dict) -> None:
    assert dpo["stopped"].step == INTERRUPT_AT
    assert dpo["stopped"].checkpoint.name == f"step-{INTERRUPT_AT:06d}"
    assert f"trained {DPO_STEPS} steps (resumed from step {INTERRUPT_AT})" in dpo["output"]
    steps = [r["step"] for r in dpo["rows"] if r["split"] == "train"]
    assert steps == list(range(1, DPO_STEPS + 1))  # each step once: nothing lost or replayed


def test_dpo_raises_held_out_preference_accuracy_and_margin(dpo: dict) -> None:
    before, after = [r for r in dpo["rows"] if r["split"] == "eval"]
    line = (
        f"DPO held-out: accuracy {before['accuracy']:.2f} -> {after['accuracy']:.2f}, margin "
        f"{before['reward_margin']:.3f} -> {after['reward_margin']:.3f}, log-prob accuracy "
        f"{before['logp_accuracy']:.2f} -> {after['logp_accuracy']:.2f}"
    )
    print(f"\n{line}")
    assert before["step"] == 0 and before["reward_margin"] == pytest.approx(0.0, abs=1e-4)
    assert after["reward_margin"] > before["reward_margin"] + 0.05, line
    assert after["accuracy"] > before["accuracy"] and after["accuracy"] >= 0.75, line
    assert after["logp_accuracy"] >= before["logp_accuracy"], line
    train = [r for r in dpo["rows"] if r["split"] == "train"]
    assert {"reward_margin", "accuracy", "chosen_reward", "rejected_reward"} <= train[-1].keys()
    assert (dpo["out"] / "learning_curve.png").read_bytes()[:8] == PNG
    assert (dpo["out"] / "reference_logps.json").is_file()
