"""A loopback HTTP server that records requests and answers with canned OpenSearch responses.

This is a protocol-level check, NOT OpenSearch: it stores nothing, scores nothing and
understands no query. Tests script each answer (shapes copied from the OpenSearch REST API
documentation) and then assert the exact method, path, parameters and body that the real
opensearch-py client sent. Behaviour against a real server is covered only by
``test_opensearch_live.py``, which runs when ``DOCENT_TEST_OPENSEARCH_URL`` is set.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SHARDS = {"total": 2, "successful": 1, "failed": 0}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        """Bulk bodies: one JSON object per line, and the body must end with a newline."""
        text = self.body.decode()
        assert text.endswith("\n"), "a _bulk body must end with a newline"
        return [json.loads(line) for line in text.splitlines()]


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or None for no body (HEAD)
    raw: bytes | None = None  # sent as is (a non-JSON body), when set
    delay_s: float = 0.0


@dataclass
class WireServer:
    """Answers ``(method, path)`` from queues of :class:`Reply`; the last reply repeats."""

    replies: dict[tuple[str, str], deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.replies[(method, path)].extend(replies)

    def reply_for(self, method: str, path: str) -> Reply:
        queue = self.replies.get((method, path))
        if not queue:
            return Reply(500, {"error": f"test server has no reply for {method} {path}"})
        return queue.popleft() if len(queue) > 1 else queue[0]

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


def start(wire: WireServer) -> ThreadingHTTPServer:
    """Serve ``wire`` on 127.0.0.1 (a free port) in a daemon thread; sets ``wire.url``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            wire.requests.append(Recorded(self.command, parts.path, query, body, headers))
            reply = wire.reply_for(self.command, parts.path)
            if reply.delay_s:
                threading.Event().wait(reply.delay_s)
            data = reply.raw if reply.raw is not None else b""
            if reply.raw is None and reply.body is not None:
                data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json; charset=UTF-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    wire.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
