"""A small client of the gateway's REST API: server-sent events and streamed chat.

Used by the ``docent`` command, the evaluators, benchmarks and tests, so every consumer
parses the stream the same way the web page does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: dict


def parse_sse(lines: Iterator[str]) -> Iterator[ServerEvent]:
    """Server-sent events from a line iterator (``event:``/``data:`` fields, blank-line framed)."""
    event, data = "message", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield ServerEvent(event, json.loads("\n".join(data)))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield ServerEvent(event, json.loads("\n".join(data)))


def stream_chat(
    url: str, message: str, conversation_id: str | None = None, timeout: float = 300.0
) -> Iterator[ServerEvent]:
    """POST ``/v1/chat`` with streaming and yield its events; HTTP errors raise with the body."""
    body: dict[str, object] = {"message": message, "stream": True}
    if conversation_id:
        body["conversation_id"] = conversation_id
    with (
        httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0)) as client,
        client.stream("POST", f"{url.rstrip('/')}/v1/chat", json=body) as reply,
    ):
        if reply.status_code >= 400:
            reply.read()
            raise ChatError(reply.status_code, reply.text)
        yield from parse_sse(reply.iter_lines())


class ChatError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        try:
            message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = body
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def stream_agent(
    url: str,
    question: str,
    *,
    adapter: str | None = None,
    max_steps: int | None = None,
    api_key: str | None = None,
    timeout: float = 600.0,
) -> Iterator[ServerEvent]:
    """POST ``/v1/agent`` with streaming and yield its events (thought, action, observation,
    answer, done or error); HTTP errors raise :class:`ChatError` with the body's message."""
    body: dict[str, object] = {"question": question, "stream": True}
    if adapter is not None:
        body["adapter"] = adapter
    if max_steps is not None:
        body["max_steps"] = max_steps
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with (
        httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0)) as client,
        client.stream("POST", f"{url.rstrip('/')}/v1/agent", json=body, headers=headers) as reply,
    ):
        if reply.status_code >= 400:
            reply.read()
            raise ChatError(reply.status_code, reply.text)
        yield from parse_sse(reply.iter_lines())
