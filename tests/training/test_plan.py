"""``docent plan`` against published figures (Chinchilla, ZeRO, QLoRA)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.plan import PlanInput, fitted_loss, plan, zero_states_gb

runner = CliRunner()


def test_chinchilla_70b_wants_1_4t_tokens_and_5_9e23_flops() -> None:
    p = plan(PlanInput(params=70e9, gpus=1, gpu_mem_gb=80))
    assert p.chinchilla_tokens == pytest.approx(1.4e12)
    assert p.flops == pytest.approx(6 * 70e9 * 1.4e12)  # 5.88e23 (the paper: ~5.76e23)
    # The fitted L(N, D) at Chinchilla's own size: E + A/N^a + B/D^b = 1.69 + 0.084 + 0.163
    assert p.chinchilla_loss == pytest.approx(1.937, abs=0.002)
    assert fitted_loss(70e9, 1.4e12) < fitted_loss(280e9, 300e9)  # Chinchilla beats Gopher


def test_zero_paper_7_5b_on_64_gpus() -> None:
    # Rajbhandari et al. figure 1: 120 GB baseline, stage 1/2/3 = 31.4 / 16.6 / 1.88 GB.
    gb = [zero_states_gb(7.5e9, 64, s) for s in range(4)]
    assert gb[0] == pytest.approx(120.0)
    assert gb[1] == pytest.approx(31.4, abs=0.05)
    assert gb[2] == pytest.approx(16.6, abs=0.05)
    assert gb[3] == pytest.approx(1.88, abs=0.01)


def test_qlora_fits_65b_on_one_48gb_gpu_and_nothing_else_does() -> None:
    p = plan(PlanInput(params=65e9, gpus=1, gpu_mem_gb=48, seq_len=512))
    fits = {m.name: m.fits for m in p.methods}
    assert fits["qlora"] and not fits["lora"] and not fits["full-zero0"]
    assert p.recommended == "qlora"
    assert 0.6e9 < p.lora_params < 1.0e9  # r=64 on 7 projections of LLaMA-65B: ~0.8B
    qlora = next(m for m in p.methods if m.name == "qlora")
    assert 33 < qlora.states_gb < 48


def test_gpu_hours_follow_utilisation() -> None:
    p = plan(PlanInput(params=1e9, gpus=8, gpu_mem_gb=80, tokens=20e9, utilization=0.5,
                       gpu_flops=1e15))  # fmt: skip
    assert p.gpu_hours == pytest.approx(6 * 1e9 * 20e9 / (1e15 * 0.5) / 3600)
    assert p.wall_hours == pytest.approx(p.gpu_hours / 8)


def test_cli_prints_a_table_and_json_that_fills_a_job(tmp_path) -> None:
    text = runner.invoke(app, ["plan", "--params", "7.5B", "--gpus", "64", "--gpu-mem", "32"])
    assert text.exit_code == 0, text.output
    assert "full-zero3" in text.output and "recommended: full-zero2" in text.output
    out = runner.invoke(
        app, ["plan", "--params", "65B", "--gpus", "16", "--gpu-mem", "80", "--json"]
    )
    assert out.exit_code == 0, out.output
    job = json.loads(out.output)["job"]
    assert job["gpus"] == 16 and job["nodes"] == 2 and job["gpus_per_node"] == 8
    assert job["active_deadline_seconds"] > 0


def test_cli_refuses_bad_numbers() -> None:
    bad = runner.invoke(app, ["plan", "--params", "lots", "--gpus", "1", "--gpu-mem", "80"])
    assert bad.exit_code != 0 and "not a number" in bad.output
    zero = runner.invoke(app, ["plan", "--params", "0", "--gpus", "1", "--gpu-mem", "80"])
    assert zero.exit_code == 1 and "params must be positive" in zero.output
