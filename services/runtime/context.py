"""The request id that follows one user request through every hop.

The gateway mints it (or takes the caller's ``X-Request-ID``), clients send it as gRPC metadata,
the server interceptor restores it, and every log line carries it.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"

_request_id: ContextVar[str | None] = ContextVar("docent_request_id", default=None)


def new_request_id() -> str:
    """A fresh, log-friendly id."""
    return uuid.uuid4().hex[:16]


def get_request_id() -> str | None:
    """The current request's id, if one is set in this context."""
    return _request_id.get()


def set_request_id(request_id: str | None) -> None:
    """Bind ``request_id`` to the current context (task or thread)."""
    _request_id.set(request_id)
