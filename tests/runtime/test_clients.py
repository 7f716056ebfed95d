"""Typed clients against dependencies that are down."""

from __future__ import annotations

import time

import pytest

from services.runtime.clients import DependencyError, EmbeddingClient, Endpoint, health_status
from tests.conftest import free_port


async def test_unreachable_dependency_fails_fast_and_names_itself() -> None:
    client = EmbeddingClient(Endpoint("embedding", f"127.0.0.1:{free_port()}", 2.0))
    start = time.monotonic()
    with pytest.raises(DependencyError) as info:
        await client.embed(["hello"])
    assert info.value.dependency == "embedding"
    assert time.monotonic() - start < 3.0
    assert not await client.serving(timeout=0.5)
    await client.close()


async def test_health_status_of_nothing_is_unreachable() -> None:
    assert await health_status(f"127.0.0.1:{free_port()}", timeout=0.5) == "UNREACHABLE"
