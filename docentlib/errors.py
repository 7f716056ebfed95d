"""Domain exceptions shared by every core.

Cores raise these; one server interceptor maps them to gRPC status codes and the gateway maps
them (and failed dependency calls) to HTTP status codes with a stable JSON error, so no core
ever needs to know which transport it is served over.
"""

from __future__ import annotations

import grpc


class DocentError(Exception):
    """Base of every domain error; ``code`` is the stable machine-readable name."""

    code: str = "internal"
    grpc_status: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DocentError):
    """The caller sent something the core cannot accept (empty text, bad k, ...)."""

    code = "invalid_input"
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DocentError):
    """The named object does not exist."""

    code = "not_found"
    grpc_status = grpc.StatusCode.NOT_FOUND


class Unavailable(DocentError):
    """The capability cannot serve right now (model not loaded, dependency down)."""

    code = "unavailable"
    grpc_status = grpc.StatusCode.UNAVAILABLE


class Overloaded(DocentError):
    """Too much work queued; the caller should back off and retry."""

    code = "overloaded"
    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnsupportedDocument(InvalidInput):
    """A document whose type no parser reads (an upload's HTTP 415)."""

    code = "unsupported_media_type"
