"""Stop upstream work when the client goes away before the response has started.

Once streaming, a disconnect is noticed by the response (the next write fails) and closing the
event iterator cancels generation. Before that, while moderation, embedding, retrieval and the
rest run, nobody writes; so the work runs as a task raced against the ASGI ``http.disconnect``
message, and a client that leaves cancels it, which cancels the in-flight gRPC calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request

from services.gateway.metrics import DISCONNECTS

T = TypeVar("T")
CLIENT_CLOSED = 499  # nginx's "client closed request": only ever seen in logs and metrics


class ClientDisconnected(Exception):
    """The client closed the connection before the answer started."""


async def _disconnected(request: Request) -> None:
    """Return when the ASGI server reports that the client has gone (the body is read)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_disconnected(request: Request, work: Awaitable[T], stage: str) -> T:
    """``await work``, cancelling it and raising :class:`ClientDisconnected` if the client leaves.

    Usage: ``prepared = await unless_disconnected(request, pipeline.prepare(body), "prepare")``
    """
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (watch, task):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
    if task.cancelled():
        DISCONNECTS.labels(stage).inc()
        raise ClientDisconnected
    return task.result()
