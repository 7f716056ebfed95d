"""A client that goes away cancels the work it started upstream, at any stage.

Served by a real uvicorn server (the in-process transport cannot disconnect); the scripted
services record the cancellation reaching them. The same against the real generation engine is
in tests/e2e/test_openai_e2e.py.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY

from services.gateway.app import create_app
from tests.gateway.conftest import served
from tests.gateway.fakes import Script

ROUTES = {
    "openai": ("/v1/chat/completions", {"model": "docent", "messages": [{"role": "user"}]}),
    "native": ("/v1/chat", {}),
}


def request_body(route: str, question: str, stream: bool) -> tuple[str, dict]:
    path, template = ROUTES[route]
    if route == "openai":
        return path, {
            **template,
            "messages": [{"role": "user", "content": question}],
            "stream": stream,
        }
    return path, {"message": question, "stream": stream}


def _disconnects(stage: str) -> float:
    value = REGISTRY.get_sample_value("docent_gateway_client_disconnects_total", {"stage": stage})
    return value or 0.0


async def _wait_for(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("route", ["openai", "native"])
async def test_leaving_mid_stream_cancels_generation(fake_stack, script: Script, route) -> None:
    script.endless, script.token_delay = True, 0.01
    path, body = request_body(route, "How do I roll back a Deployment?", stream=True)
    async with served(create_app(fake_stack())) as url, httpx.AsyncClient(timeout=10) as client:
        async with client.stream("POST", url + path, json=body) as reply:
            assert reply.status_code == 200
            received = 0
            async for line in reply.aiter_lines():
                received += "tick" in line
                if received >= 5:
                    break
        assert script.generating == 1 or script.generation_cancelled.is_set()
        await asyncio.wait_for(script.generation_cancelled.wait(), 5)
        await _wait_for(lambda: script.generating == 0)


@pytest.mark.parametrize(
    ("route", "stream"), [("openai", True), ("openai", False), ("native", True)]
)
async def test_leaving_during_retrieval_cancels_it(
    fake_stack, script: Script, route, stream
) -> None:
    script.retrieval_delay = 30
    path, body = request_body(route, "How do I roll back a Deployment?", stream=stream)
    before = _disconnects("prepare")
    async with served(create_app(fake_stack())) as url, httpx.AsyncClient(timeout=60) as client:
        call = asyncio.create_task(client.post(url + path, json=body))
        await _wait_for(lambda: "retrieval" in script.seen)
        call.cancel()  # closes the connection
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(script.retrieval_cancelled.wait(), 5)
        await _wait_for(lambda: _disconnects("prepare") == before + 1)
    assert "generation" not in script.seen


async def test_leaving_a_whole_answer_cancels_its_generation(fake_stack, script: Script) -> None:
    script.endless, script.token_delay = True, 0.01
    path, body = request_body("openai", "How do I roll back a Deployment?", stream=False)
    async with served(create_app(fake_stack())) as url, httpx.AsyncClient(timeout=60) as client:
        call = asyncio.create_task(client.post(url + path, json=body))
        await _wait_for(lambda: script.generating == 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(script.generation_cancelled.wait(), 5)
        await _wait_for(lambda: script.generating == 0)
