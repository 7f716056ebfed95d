"""Added latency per token of output moderation on the stream.

Run: ``python -m bench.moderation_stream_bench``.

A real moderation service (``python -m services.moderation``, its own process, on loopback)
checks a synthetic answer streamed at a fixed token interval through the gateway's
:func:`~services.gateway.chat.output_guard.guard_stream`, exactly as the pipeline wires it
(leak check, then a Check RPC of the sliding window). For each token it records how long it
was held back (arrival -> release) and compares the stream's end with an unmoderated run.
Results go to stdout and ``bench/out/moderation_stream.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from docentlib.answer_format import system_prompt
from services.gateway.chat.events import DeltaEvent
from services.gateway.chat.output_guard import GuardStats, guard_stream, output_check
from services.gateway.chat.safety import LeakDetector
from services.runtime.clients import Endpoint, ModerationClient
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
ANSWER = (
    "To roll back a Deployment, run kubectl rollout undo deployment/nginx-deployment [1]. "
    "You can check the rollout history first with kubectl rollout history, and pick a "
    "revision with --to-revision [2]. The Deployment controller then scales the old "
    "ReplicaSet up and the new one down, respecting maxUnavailable and maxSurge [1]. "
)


def tokens(count: int) -> list[str]:
    words = (ANSWER * (count // 40 + 2)).split(" ")
    return [w + " " for w in words[:count]]


async def stream(parts: list[str], interval: float) -> AsyncIterator[DeltaEvent]:
    for part in parts:
        await asyncio.sleep(interval)
        yield DeltaEvent(part)


async def run(client: ModerationClient, parts: list[str], interval: float, window: int) -> dict:
    # Baseline: the same stream unmoderated.
    start = time.perf_counter()
    async for _ in stream(parts, interval):
        pass
    base = time.perf_counter() - start
    stats = GuardStats()
    holds: list[float] = []
    check = output_check(client, LeakDetector(system_prompt()))
    arrivals: list[float] = []

    async def timed() -> AsyncIterator[DeltaEvent]:
        async for event in stream(parts, interval):
            arrivals.append(time.perf_counter())
            yield event

    start, released = time.perf_counter(), 0
    async for event in guard_stream(timed(), check, window, stats):
        assert isinstance(event, DeltaEvent), event
        holds.append(time.perf_counter() - arrivals[released])
        released += 1
    moderated = time.perf_counter() - start
    holds_ms = sorted(h * 1000 for h in holds)
    return {
        "token_interval_ms": interval * 1000,
        "tokens": len(parts),
        "checks": stats.checks,
        "mean_check_ms": round(stats.check_seconds / max(stats.checks, 1) * 1000, 3),
        "hold_per_token_ms_mean": round(statistics.fmean(holds_ms), 3),
        "hold_per_token_ms_p50": round(holds_ms[len(holds_ms) // 2], 3),
        "hold_per_token_ms_p95": round(holds_ms[int(len(holds_ms) * 0.95)], 3),
        "stream_overhead_per_token_ms": round((moderated - base) / len(parts) * 1000, 3),
    }


def start_moderation(port: int, metrics_port: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DOCENT_MODERATION_PORT=str(port),
        DOCENT_MODERATION_METRICS_PORT=str(metrics_port),
        DOCENT_MODERATION_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen([sys.executable, "-m", "services.moderation"], cwd=ROOT, env=env)


async def main(args: argparse.Namespace) -> list[dict]:
    port = free_port()
    proc = start_moderation(port, free_port())
    client = ModerationClient(Endpoint("moderation", f"127.0.0.1:{port}", 5.0))
    try:
        deadline = time.monotonic() + 120
        while not await client.serving():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("moderation service did not start")
            await asyncio.sleep(0.5)
        await client.check("warm up", "output")
        parts = tokens(args.tokens)
        return [
            await run(client, parts, interval / 1000, args.window) for interval in args.intervals
        ]
    finally:
        await client.close()
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--window", type=int, default=400, help="Sliding window, characters.")
    parser.add_argument(
        "--intervals", type=float, nargs="+", default=[0.0, 10.0, 30.0], help="ms between tokens"
    )
    rows = asyncio.run(main(parser.parse_args()))
    for row in rows:
        print(json.dumps(row))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "moderation_stream.json").write_text(json.dumps(rows, indent=2) + "\n")
