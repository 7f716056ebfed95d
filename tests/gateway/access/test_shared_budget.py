"""Two gateway processes, one real Redis: one rate-limit budget, one set of conversations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.gateway.settings import DEPENDENCIES
from tests.conftest import REPO, free_port

RPM = 10


@pytest.fixture
def shared_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = dict(os.environ, DOCENT_HOME=str(tmp_path / "home"))
    env.update(
        DOCENT_GATEWAY_STORE="redis",
        DOCENT_GATEWAY_REDIS_URL=redis_url,
        DOCENT_GATEWAY_LOG_LEVEL="WARNING",
    )
    for name in DEPENDENCIES:  # not needed by these routes: point them nowhere
        env[f"DOCENT_GATEWAY_{name.upper()}_ADDRESS"] = f"127.0.0.1:{free_port()}"
    return env


@pytest.fixture
def gateways(shared_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    """Two ``python -m services.gateway`` (uvicorn) processes on loopback ports."""
    procs, urls = [], []
    for i in range(2):
        port = free_port()
        env = dict(shared_env, DOCENT_GATEWAY_PORT=str(port))
        log = open(tmp_path / f"gateway{i}.log", "wb")  # noqa: SIM115 - closed below
        procs.append(
            (subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT), log)
        )  # fmt: skip
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for url, (proc, _) in zip(urls, procs, strict=True):
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    logs = "\n".join((tmp_path / f"gateway{i}.log").read_text() for i in range(2))
                    pytest.fail(f"gateway did not start:\n{logs}")
                time.sleep(0.2)
        yield urls
    finally:
        for proc, log in procs:
            proc.terminate()
            proc.wait(timeout=20)
            log.close()


def _create_key(env: dict[str, str], name: str, rpm: int) -> str:
    """``docent keys create`` against the same Redis (what an operator would run)."""
    created = subprocess.run(
        [sys.executable, "-m", "docent_cli.main", "keys", "create", "--name", name,
         "--rpm", str(rpm), "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)["key"]


def test_two_replicas_share_one_budget_and_the_conversations(
    shared_env: dict[str, str], gateways: list[str]
) -> None:
    headers = {"authorization": f"Bearer {_create_key(shared_env, 'shared', RPM)}"}
    unlimited = {"authorization": f"Bearer {_create_key(shared_env, 'other', 0)}"}
    with httpx.Client(timeout=10) as client:
        # No key at all: refused by both replicas (the key in Redis switched auth on).
        assert all(client.get(f"{u}/v1/conversations").status_code == 401 for u in gateways)
        replies = [
            (url, client.get(f"{url}/v1/conversations", headers=headers))
            for _ in range(RPM + 5)
            for url in gateways
        ]
        # Conversations live in Redis too: created on one replica, read on the other.
        conv = client.post(f"{gateways[0]}/v1/conversations", headers=unlimited, json={}).json()
        read = client.get(f"{gateways[1]}/v1/conversations/{conv['id']}", headers=unlimited)
        assert read.status_code == 200 and read.json()["id"] == conv["id"]
    allowed = [(url, r) for url, r in replies if r.status_code == 200]
    refused = [r for _, r in replies if r.status_code == 429]
    assert len(allowed) + len(refused) == len(replies)
    # Ten a minute in all, not ten per replica (one more may refill while the test runs).
    assert RPM <= len(allowed) <= RPM + 1, [r.status_code for _, r in replies]
    assert {url for url, _ in allowed} == set(gateways)  # both replicas served some
    assert all(r.headers["x-ratelimit-limit-requests"] == str(RPM) for _, r in allowed)
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert refused[0].json()["error"]["code"] == "rate_limited"
