"""Gateway fixtures: settings pointing at nothing, fake services, an app with its lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.gateway.settings import DEPENDENCIES, GatewaySettings
from tests.conftest import free_port
from tests.gateway.fakes import Script, start_fake


def closed_addresses() -> dict[str, str]:
    """Every dependency at a loopback port nothing listens on."""
    return {f"{name}_address": f"127.0.0.1:{free_port()}" for name in DEPENDENCIES}


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, and an HTTP client talking to it in-process."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        yield client


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app served by a real uvicorn server on a free loopback port; yields its base URL.

    Unlike the in-process transport, a real server lets clients disconnect mid-response.
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def fake_stack(script: Script) -> AsyncIterator[Callable[..., GatewaySettings]]:
    """Settings factory for a gateway whose dependencies are scripted fakes.

    The reranker is not started (its address is closed) unless ``reranker=True``.
    """
    required = ("moderation", "embedding", "retrieval", "generation")
    server, address = await start_fake(script, (*required, "reranking"))

    def make(reranker: bool = False, **overrides: object) -> GatewaySettings:
        addresses = {f"{n}_address": address for n in required}
        addresses["reranking_address"] = address if reranker else f"127.0.0.1:{free_port()}"
        addresses["ingestion_address"] = f"127.0.0.1:{free_port()}"  # uploads: 503 unless given
        # The groundedness guard regroups text by sentence; tests of other stages see the
        # stream as generated (the guard has its own tests: tests/gateway/chat/test_grounding.py).
        defaults = {"heartbeat_s": 5.0, "grounding": "off"}
        return GatewaySettings(**{**addresses, **defaults, **overrides})

    yield make
    await server.stop(0)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """One real redis-server for the session (each test uses keys of its own)."""
    from tests.redis_server import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url
