"""Conversations on the real stack: a follow-up that refers back five turns, and ownership."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.e2e.conftest import Stack
from tests.e2e.corpus import DEPLOYMENT_PAGE, ingest, link_corpus

pytestmark = pytest.mark.e2e

TURNS = [
    "How do I update the container image of a Deployment?",
    "What is a Pod?",
    "How do I delete a Job?",
    "What are ConfigMaps used for?",
    "How do I expose an application with a Service?",
    "and how do I undo that?",  # only makes sense with turn 1
]


@pytest.fixture(scope="module")
def ingested(stack: Stack, k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return ingest(stack, link_corpus(k8s_docs, tmp_path_factory.mktemp("corpus")))


def _ask(client: httpx.Client, message: str, conversation_id: str, **headers: str) -> dict:
    body = {"message": message, "conversation_id": conversation_id, "stream": False}
    reply = client.post("/v1/chat", json={**body, "max_tokens": 16}, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_turn_six_refers_to_turn_one_and_finds_the_deployment_page(
    stack: Stack, ingested: dict
) -> None:
    with httpx.Client(base_url=stack.url, timeout=300) as client:
        conv = client.post("/v1/conversations", json={"title": "six turns"}).json()["id"]
        answers = [_ask(client, message, conv) for message in TURNS]
        history = client.get(f"/v1/conversations/{conv}").json()
    last = answers[-1]
    query = last["metadata"]["retrieval_query"]
    print(f"\nturn 6 retrieval query: {query!r}")
    print("turn 6 sources:", [s["source_path"] for s in last["sources"]])
    assert query.startswith(TURNS[0]), query  # turn 1, not turn 5, was taken as "that"
    paths = [s["source_path"] for s in last["sources"]]
    assert any(p.endswith(DEPLOYMENT_PAGE) for p in paths), paths
    rollback = [s for s in last["sources"] if s["source_path"].endswith(DEPLOYMENT_PAGE)]
    assert any("undo" in s["text"].lower() or "Rolling Back" in " ".join(s["heading_path"])
               for s in rollback), rollback  # fmt: skip
    assert last["metadata"]["history_turns"] >= 1  # the prompt carried earlier turns
    for standalone, answer in zip(TURNS[1:5], answers[1:5], strict=True):
        assert answer["metadata"]["retrieval_query"] == standalone
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"] * 6
    assert history["turns"] == 12 and history["title"] == "six turns"


def test_conversations_belong_to_their_key_on_the_live_gateway(stack: Stack) -> None:
    """Two keys made with ``docent keys``; revoked at the end so auth=auto is off again."""
    env = dict(os.environ, DOCENT_HOME=str(stack.home))
    keys = []
    try:
        for name in ("alice", "bob"):
            made = subprocess.run(
                [sys.executable, "-m", "docent_cli.main", "keys", "create", "--name", name,
                 "--json"],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert made.returncode == 0, made.stderr
            keys.append(json.loads(made.stdout))
        time.sleep(1.5)  # the gateway may trust "no key exists" for one second
        alice = {"authorization": f"Bearer {keys[0]['key']}"}
        bob = {"authorization": f"Bearer {keys[1]['key']}"}
        with httpx.Client(base_url=stack.url, timeout=300) as client:
            conv = client.post("/v1/conversations", headers=alice, json={}).json()["id"]
            assert client.get(f"/v1/conversations/{conv}", headers=alice).status_code == 200
            for method in ("GET", "DELETE"):
                reply = client.request(method, f"/v1/conversations/{conv}", headers=bob)
                assert reply.status_code == 404, reply.text
            chat = {"message": "and how?", "conversation_id": conv, "stream": False}
            assert client.post("/v1/chat", json=chat, headers=bob).status_code == 404
            assert client.get("/v1/conversations", headers=bob).json()["conversations"] == []
            assert client.get("/v1/conversations").status_code == 401  # keys exist: required
    finally:
        for key in keys:
            subprocess.run(
                [sys.executable, "-m", "docent_cli.main", "keys", "revoke", key["id"]],
                cwd=REPO, env=env, capture_output=True, timeout=60, check=True,
            )  # fmt: skip
        time.sleep(1.5)  # the gateway trusts "a key exists" for one second
