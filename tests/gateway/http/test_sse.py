"""SSE framing: one-line JSON data, names checked, heartbeats that never cancel upstream."""

from __future__ import annotations

import asyncio
import json

import pytest

from docentlib.gateway_client import parse_sse
from services.gateway.http.sse import format_comment, format_event, with_heartbeats


def test_frame_shape() -> None:
    frame = format_event("delta", {"text": "Hi"})
    assert frame == b'event: delta\ndata: {"text":"Hi"}\n\n'


def test_newlines_and_unicode_in_data_stay_on_one_line() -> None:
    data = {"text": "line one\nline two\r\nthree\u2028four — é [1]"}
    frame = format_event("delta", data).decode()
    assert frame.count("\n") == 3  # "event:" line, "data:" line, blank line
    assert "\r" not in frame
    lines = frame.split("\n")
    assert json.loads(lines[1].removeprefix("data: ")) == data
    events = list(parse_sse(iter(frame.splitlines())))
    assert events[0].event == "delta" and events[0].data == data


@pytest.mark.parametrize("name", ["", "two words", "a\nb", "done\n", "done\n\nevent: x"])
def test_bad_event_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="event name"):
        format_event(name, {})


def test_comment_frames_are_ignored_by_clients() -> None:
    assert format_comment("keep-alive") == b": keep-alive\n\n"
    assert format_comment("a\nb") == b": a\n: b\n\n"
    frames = (format_comment("ping") + format_event("done", {"ok": True})).decode()
    assert [e.event for e in parse_sse(iter(frames.splitlines()))] == ["done"]


async def test_heartbeats_fill_silences_without_losing_frames() -> None:
    async def slow() -> object:
        yield b"a"
        await asyncio.sleep(0.35)
        yield b"b"

    got = [frame async for frame in with_heartbeats(slow(), interval=0.1)]
    assert got[0] == b"a" and got[-1] == b"b"
    assert 2 <= got.count(format_comment("keep-alive")) <= 4
    assert len(got) == 2 + got.count(format_comment("keep-alive"))


async def test_closing_the_heartbeat_stream_closes_the_source() -> None:
    state = {"closed": False, "cancelled": False}

    async def endless() -> object:
        try:
            yield b"first"
            await asyncio.sleep(60)
            yield b"never"
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        finally:
            state["closed"] = True

    stream = with_heartbeats(endless(), interval=0.05)
    assert await anext(stream) == b"first"
    assert await anext(stream) == format_comment("keep-alive")  # source still waiting
    await stream.aclose()
    assert state["closed"] and state["cancelled"]
