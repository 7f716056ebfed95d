"""`docent bench generation`: statistics, option errors, and one real sweep on a spawned service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generation_report import RequestResult, percentile, summarise
from tests.conftest import REPO, free_port

DOCENT = [sys.executable, "-m", "docent_cli.main", "bench", "generation"]


def test_percentiles_and_tpot() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    results = [
        RequestResult(ok=True, ttft=0.1, e2e=1.1, output_tokens=11, itl=[0.1] * 10),
        RequestResult(ok=True, ttft=0.3, e2e=2.3, output_tokens=21, itl=[0.1] * 20),
        RequestResult(ok=False, error="boom"),
    ]
    summary = summarise(2, results, duration=2.0)
    assert (summary.requests, summary.failed, summary.error) == (3, 1, "boom")
    assert summary.output_tok_s == 16.0
    assert summary.ms["tpot"]["p50"] == 100.0 and summary.ms["ttft"]["p50"] == 200.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "a,b"], "--concurrency must be integers"),
        (["--concurrency", "0"], "at least 1"),
        (["--target", "nowhere"], "--target must be generation or gateway"),
        (["--target", "gateway", "--spawn"], "--spawn starts the generation service"),
    ],
)
def test_bad_options_exit_1_with_a_message(args: list[str], message: str) -> None:
    done = subprocess.run([*DOCENT, *args], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_against_a_spawned_service(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--spawn", "--address", f"127.0.0.1:{free_port()}", "--concurrency", "1,2",
            "--requests", "2", "--max-tokens", "6", "--max-batch-size", "4", "--out", str(out),
            "--label", "tiny"]  # fmt: skip
    env = {**os.environ, "DOCENT_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [*DOCENT, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tiny (latencies in ms)" in done.stdout and "ttft p99" in done.stdout
    body = json.loads((out / "tiny.json").read_text())
    assert [level["concurrency"] for level in body["levels"]] == [1, 2]
    assert all(level["failed"] == 0 and level["output_tokens"] > 0 for level in body["levels"])
    assert body["levels"][0]["ms"]["ttft"]["p50"] > 0
    assert (out / "generation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
