"""Ingestion fixtures: real embedding and retrieval servers, and a real redis-server."""

from __future__ import annotations

import pytest

from tests.ingestion.backends import Backends, backends


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory):
    """Embedding and retrieval on loopback, shared by one module's tests."""
    async with backends(tmp_path_factory.mktemp("retrieval-data")) as found:
        yield found


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """One real redis-server for the session (each test uses keys of its own)."""
    from tests.redis_server import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


__all__ = ["Backends"]
