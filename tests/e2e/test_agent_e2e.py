"""The agent with the real model: SmolLM2-135M plus the trained ``agent`` adapter, constrained
decoding in the real generation engine, the local MediaWiki and Open-Meteo servers.

A generation process serving the adapter by name and a gateway process whose agent tools
point at tests/agent_world.py run beside the session's stack (its embedding, retrieval and
moderation services are shared). The lab's deliverable is the first test: the capital of
France is found with a tool, then its weather, and the answer states that temperature.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.runtime.clients import health_status
from tests.agent_world import AgentWorld
from tests.conftest import REPO, free_port
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
ADAPTER = REPO / "training-jobs" / "adapters" / "agent"
QUESTIONS = REPO / "tests" / "data" / "agent" / "questions.jsonl"
QUESTION = "What is the temperature in the capital of France?"


def _wait(url: str, proc: subprocess.Popen, log: Path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    pytest.fail(f"not ready in {seconds}s:\n{log.read_text()[-4000:]}")


def _wait_serving(address: str, proc: subprocess.Popen, log: Path, seconds: float = 600) -> None:
    """Until the gRPC health service at ``address`` says SERVING (the model is loaded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited:\n{log.read_text()[-4000:]}")
        if asyncio.run(health_status(address, timeout=2.0)) == "SERVING":
            return
        time.sleep(1)
    proc.kill()
    pytest.fail(f"not SERVING in {seconds}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def agent_gateway(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a gateway whose agent acts with the adapter against the local world."""
    assert (ADAPTER / "adapter_config.json").is_file(), f"no trained adapter in {ADAPTER}"
    home = tmp_path_factory.mktemp("agent-e2e")
    grpc_port, metrics_port, http_port = free_port(), free_port(), free_port()
    with AgentWorld.start() as world:
        env = dict(
            os.environ,
            DOCENT_GENERATION_PORT=str(grpc_port),
            DOCENT_GENERATION_METRICS_PORT=str(metrics_port),
            DOCENT_GENERATION_DATA_DIR=str(home / "generation"),
            DOCENT_GENERATION_MODEL_CACHE_DIR=str(stack.home / "generation" / "models"),
            DOCENT_GENERATION_LORA_ADAPTERS=json.dumps({"agent": str(ADAPTER)}),
            DOCENT_GATEWAY_PORT=str(http_port),
            DOCENT_GATEWAY_DATA_DIR=str(home / "gateway"),
            DOCENT_GATEWAY_GENERATION_ADDRESS=f"127.0.0.1:{grpc_port}",
            DOCENT_GATEWAY_GENERATION_TIMEOUT_S="300",
            DOCENT_GATEWAY_AGENT_ADAPTER="agent",
            **{
                f"DOCENT_GATEWAY_{s.upper()}_ADDRESS": stack.grpc_address(s)
                for s in ("embedding", "retrieval", "reranking", "moderation")
            },
            **world.env(),
        )
        logs = [home / "generation.log", home / "gateway.log"]
        procs = []
        for module, log in zip(("services.generation", "services.gateway"), logs, strict=True):
            with open(log, "wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", module], cwd=REPO, env=env, stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        url = f"http://127.0.0.1:{http_port}"
        try:
            # The gateway is ready without its dependencies (readiness does not cascade):
            # wait for the generation process to load the model and the adapter too.
            _wait_serving(f"127.0.0.1:{grpc_port}", procs[0], logs[0])
            _wait(f"{url}/readyz", procs[1], logs[1])
            yield url
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=60)


def test_capital_of_france_then_its_weather(agent_gateway: str) -> None:
    """The lab's deliverable: wikipedia finds Paris, weather returns 14.3 °C, the answer says it."""
    reply = httpx.post(
        f"{agent_gateway}/v1/agent", json={"question": QUESTION, "stream": False}, timeout=600
    )
    assert reply.status_code == 200, reply.text
    done = reply.json()
    tools = [s["tool"] for s in done["steps"] if s["tool"]]
    assert tools == ["wikipedia", "weather"], json.dumps(done["steps"], indent=1)
    assert done["steps"][1]["arguments"] == {"location": "Paris"}
    assert done["steps"][1]["observation"].startswith("Paris, France: 14.3 °C")
    assert "14.3" in done["answer"].split("Tools used:")[0]
    assert done["answer"].endswith("Tools used: wikipedia, weather.")
    assert done["metadata"]["adapter"] == "agent" and done["metadata"]["constrained"] is True


def test_docent_agent_streams_the_steps(agent_gateway: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "agent", QUESTION, "--url", agent_gateway],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "action: wikipedia" in out and "action: weather" in out
    assert out.index("action: wikipedia") < out.index("observation: Paris, France: 14.3")
    assert "14.3" in out.split("observation: Paris, France")[1]


def test_docent_eval_agent_reports_and_saves_traces(agent_gateway: str, tmp_path: Path) -> None:
    subset = tmp_path / "questions.jsonl"
    lines = QUESTIONS.read_text().splitlines()
    subset.write_text("\n".join(lines[:2]) + "\n")
    traces = tmp_path / "traces.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "eval", "agent", "--questions", str(subset),
         "--url", agent_gateway, "--traces", str(traces), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["questions"] == 2
    assert {"success_rate", "mean_steps", "tool_errors", "tool_errors_recovered"} <= set(report)
    rows = [json.loads(line) for line in traces.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["capital-weather-france", "capital-weather-kenya"]
    assert all(r["trace"] for r in rows)
