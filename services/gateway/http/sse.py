"""Server-sent event framing, and heartbeats that keep idle proxies from closing the stream.

Data is one line of JSON (newlines and Unicode line separators escaped), so a frame is always
``event: <name>\\ndata: <json>\\n\\n`` and a client never has to join multi-line data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator
from typing import Any

_EVENT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# json.dumps escapes \n and \r, but not these, which str.splitlines() (and so some clients)
# also treat as line breaks.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def format_event(event: str, data: dict[str, Any]) -> bytes:
    """One SSE frame; ``event`` must be a single token (no spaces or newlines)."""
    if not _EVENT_NAME.fullmatch(event):
        raise ValueError(f"event name must match {_EVENT_NAME.pattern}, got {event!r}")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)
    return f"event: {event}\ndata: {payload}\n\n".encode()


def format_comment(text: str = "") -> bytes:
    """A comment frame (ignored by clients); used as a heartbeat."""
    lines = text.splitlines() or [""]
    return "".join(f": {line}\n" for line in lines).encode() + b"\n"


async def _next(frames: AsyncGenerator[bytes, None]) -> bytes:
    return await anext(frames)


async def with_heartbeats(
    frames: AsyncGenerator[bytes, None], interval: float, comment: str = "keep-alive"
) -> AsyncGenerator[bytes, None]:
    """Pass ``frames`` through, adding a comment frame whenever none came for ``interval`` s.

    The pending ``anext`` is never cancelled by the timer (that would cancel the upstream call);
    only when this generator itself is closed is it cancelled and ``frames`` closed.
    """
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(frames))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield format_comment(comment)
                continue
            finished, pending = pending, None
            try:
                frame = finished.result()
            except StopAsyncIteration:
                return
            yield frame
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        await frames.aclose()


async def event_frames(events: AsyncGenerator[Any, None]) -> AsyncGenerator[bytes, None]:
    """Frame each chat or agent event (``.name``, ``.data()``); an unexpected failure still ends
    the stream with an ``error`` event."""
    from services.gateway.http.errors import internal_error  # errors imports the schemas

    async with contextlib.aclosing(events) as source:
        try:
            async for event in source:
                yield format_event(event.name, event.data())
        except Exception as exc:
            _, body = internal_error(exc)
            yield format_event("error", body)
