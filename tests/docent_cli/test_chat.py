"""Parsing the gateway's server-sent events on the client side."""

from __future__ import annotations

from docentlib.gateway_client import ChatError, parse_sse


def test_parse_sse_events() -> None:
    lines = [
        ": keep-alive",
        "event: sources",
        'data: {"sources": [{"n": 1}]}',
        "",
        "event: delta",
        'data: {"text": "Hi"}',
        "",
        "event: done",
        'data: {"usage": {"completion_tokens": 1}}',
    ]
    events = list(parse_sse(iter(lines)))
    assert [e.event for e in events] == ["sources", "delta", "done"]
    assert events[1].data == {"text": "Hi"}


def test_chat_error_reads_the_json_error() -> None:
    err = ChatError(
        503, '{"error": {"code": "dependency_unavailable", "message": "retrieval down"}}'
    )
    assert str(err) == "HTTP 503: retrieval down"
    assert str(ChatError(500, "plain")) == "HTTP 500: plain"
