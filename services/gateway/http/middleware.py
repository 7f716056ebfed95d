"""Per-request plumbing, as plain ASGI so streamed responses pass through untouched.

Binds the request id (so every log line and gRPC call carries it), opens the request span
(when FastAPI has not),
enforces the body size limit, turns any unhandled exception into a 500 JSON error, and records
the latency histogram (route template, not raw path) and one JSON access log line.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.http.errors import error_body, error_response, internal_error
from services.gateway.metrics import REQUEST_SECONDS
from services.runtime.context import new_request_id, set_request_id
from services.runtime.tracing import tracer

access_log = logging.getLogger("services.gateway.access")
_tracer = tracer("services.gateway")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMATCHED = "unmatched"


def request_id_from(headers: Headers) -> str:
    """The caller's ``X-Request-ID`` when it is short and printable, else a fresh one."""
    given = headers.get("x-request-id", "")
    return given if _SANE_ID.match(given) else new_request_id()


def route_template(scope: Scope) -> str:
    """``/v1/chat`` for the chat route; one label for every unknown path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestContextMiddleware:
    """Usage: ``app.add_middleware(RequestContextMiddleware, max_body_bytes=1 << 20)``."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 1 << 20) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_id_from(headers)
        set_request_id(request_id)
        method, start = scope["method"], time.perf_counter()
        status = {"code": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        with self._server_span(method, scope["path"], headers) as span:
            try:
                if self._too_large(headers):
                    body = error_body(
                        "payload_too_large", f"request body exceeds {self.max_body_bytes} bytes"
                    )
                    await error_response(413, body)(scope, receive, send_with_id)
                else:
                    await self.app(scope, receive, send_with_id)
            except Exception as exc:
                if status["started"]:
                    internal_error(exc)  # too late for a status: log it, end the response
                else:
                    code, body = internal_error(exc)
                    await error_response(code, body)(scope, receive, send_with_id)
            finally:
                route = route_template(scope)
                if span is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status["code"])
                self._observe(method, route, scope["path"], status["code"], start)
                set_request_id(None)

    @staticmethod
    @contextmanager
    def _server_span(method: str, path: str, headers: Headers) -> Iterator[trace.Span | None]:
        """Our own SERVER span, unless one is already open for this request.

        FastAPI >= 0.165 opens one natively (with the route and status); older versions do not,
        and then this one, continuing the caller's ``traceparent``, takes its place.
        """
        if trace.get_current_span().get_span_context().is_valid:
            yield None
            return
        parent = propagate.extract(dict(headers))
        with _tracer.start_as_current_span(
            f"{method} {path}", context=parent, kind=trace.SpanKind.SERVER
        ) as span:
            yield span

    def _too_large(self, headers: Headers) -> bool:
        length = headers.get("content-length")
        return length is not None and length.isdigit() and int(length) > self.max_body_bytes

    @staticmethod
    def _observe(method: str, route: str, path: str, status: int, start: float) -> None:
        elapsed = time.perf_counter() - start
        REQUEST_SECONDS.labels(route, method, str(status)).observe(elapsed)
        access_log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_s": round(elapsed, 6),
            },
        )
