"""Output moderation on the stream: no generated text reaches the client unchecked.

Deltas from generation are held back until a check of the sliding window that contains them
(the last ``window_chars`` of the answer) passes; then they are released together. Checks run
while generation goes on, one at a time, each covering every delta that arrived since the last
one: when the model is slow each token is checked alone, when it is fast tokens are checked in
groups, so the added latency per token stays near one check's round trip.

On a violation the generation stream is closed at once (which cancels the gRPC call and the
model's work), and a :class:`ModerationEvent` ends the stream in place of the held-back text.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docent.v1 import moderation_pb2
from services.gateway.chat.events import DeltaEvent, ErrorEvent, ModerationEvent
from services.gateway.chat.safety import (
    LeakDetector,
    count_refusal,
    flagged_categories,
    main_category,
    output_refusal,
)
from services.runtime.clients import ModerationClient

if TYPE_CHECKING:
    from services.gateway.chat.prepared import PreparedChat

# (window text) -> flagged categories ([] when it may pass)
WindowCheck = Callable[[str], Awaitable[list[str]]]


@dataclass
class GuardStats:
    """What the guard did, for metadata and the benchmark."""

    checks: int = 0
    check_seconds: float = 0.0
    held_seconds: float = 0.0  # summed over released deltas: arrival -> release
    released: int = 0

    @property
    def mean_hold_s(self) -> float:
        return self.held_seconds / self.released if self.released else 0.0


@dataclass
class _Held:
    event: DeltaEvent
    arrived: float = field(default_factory=time.perf_counter)


async def _anext(source: AsyncIterator[DeltaEvent | ErrorEvent]) -> DeltaEvent | ErrorEvent:
    return await anext(source)


async def guard_stream(
    source: AsyncIterator[DeltaEvent | ErrorEvent],
    check: WindowCheck,
    window_chars: int,
    stats: GuardStats | None = None,
) -> AsyncIterator[DeltaEvent | ErrorEvent | ModerationEvent]:
    """``source``'s events, each delta released only after its window was checked."""
    stats = stats if stats is not None else GuardStats()
    released_text = ""
    held: list[_Held] = []
    reader: asyncio.Task | None = asyncio.ensure_future(_anext(source))
    checker: asyncio.Task | None = None
    checking = 0  # how many of ``held`` the running check covers
    ended: ErrorEvent | None = None
    try:
        while reader is not None or checker is not None or held:
            if checker is None and held:
                checking = len(held)
                window = (released_text + "".join(h.event.text for h in held))[-window_chars:]
                checker = asyncio.ensure_future(_timed(check, window, stats))
            waiting = {t for t in (reader, checker) if t is not None}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                try:
                    event = reader.result()
                except StopAsyncIteration:
                    reader = None
                else:
                    if isinstance(event, DeltaEvent):
                        held.append(_Held(event))
                        reader = asyncio.ensure_future(_anext(source))
                    else:
                        ended, reader = event, None
            if checker is not None and checker in done:
                flagged = checker.result()
                checker = None
                if flagged:
                    yield ModerationEvent(flagged, "".join(h.event.text for h in held))
                    return
                now = time.perf_counter()
                for item in held[:checking]:
                    stats.held_seconds += now - item.arrived
                    stats.released += 1
                    released_text += item.event.text
                    yield item.event
                del held[:checking]
        if ended is not None:
            yield ended
    finally:
        for task in (reader, checker):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await source.aclose()  # type: ignore[attr-defined]


async def _timed(check: WindowCheck, window: str, stats: GuardStats) -> list[str]:
    start = time.perf_counter()
    try:
        return await check(window)
    finally:
        stats.checks += 1
        stats.check_seconds += time.perf_counter() - start


def output_check(moderation: ModerationClient, leak: LeakDetector) -> WindowCheck:
    """The sliding-window check of generated text: a system-prompt leak, then toxicity."""

    async def check(window: str) -> list[str]:
        if leak.leaks(window):
            return ["system_prompt_leak"]
        verdict = await moderation.check(window, "output")
        if verdict.decision != moderation_pb2.DECISION_BLOCK:
            return []
        return flagged_categories(verdict) or ["unknown"]

    return check


async def moderated_answer(
    stream: AsyncIterator[DeltaEvent | ErrorEvent],
    check: WindowCheck | None,
    window_chars: int,
    chat: PreparedChat,
) -> AsyncIterator[DeltaEvent | ErrorEvent | ModerationEvent]:
    """Generation's events through output moderation (``check`` None: moderation is off).

    A violation stops generation; the answer so far (hence the stored history too) becomes the
    refusal, which the :class:`ModerationEvent` carries to the client.
    """
    guarded = guard_stream(stream, check, window_chars) if check is not None else stream
    async with aclosing(guarded) as events:
        async for event in events:
            if isinstance(event, ModerationEvent):
                refusal = output_refusal(event.categories)
                chat.stopped_by_output_moderation(event.categories, refusal)
                count_refusal(f"output_{main_category(event.categories)}")
                yield ModerationEvent(event.categories, refusal=refusal)
                return
            yield event
