"""Every error the gateway returns is JSON with a stable code: ``{"error": {"code", ...}}``.

Domain errors map to HTTP statuses here and nowhere else; the SSE ``error`` event uses the same
body, so a client reads failures the same way whether or not it streams.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from docentlib.errors import (
    DocentError,
    InvalidInput,
    NotFound,
    Overloaded,
    Unavailable,
    UnsupportedDocument,
)
from services.gateway.chat.schemas import ErrorBody, ErrorDetail
from services.gateway.metrics import ERRORS
from services.runtime.clients import DependencyError
from services.runtime.context import get_request_id

log = logging.getLogger(__name__)

_DOMAIN_STATUS: tuple[tuple[type[DocentError], int], ...] = (
    (UnsupportedDocument, 415),
    (InvalidInput, 400),
    (NotFound, 404),
    (Overloaded, 429),
    (DependencyError, 503),
    (Unavailable, 503),
)
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def error_body(
    code: str, message: str, *, field: str | None = None, dependency: str | None = None
) -> dict[str, Any]:
    """The JSON error body (with the current request id); counts the error in metrics."""
    ERRORS.labels(code).inc()
    detail = ErrorDetail(
        code=code,
        message=message,
        field=field,
        dependency=dependency,
        request_id=get_request_id(),
    )
    return ErrorBody(error=detail).model_dump(exclude_none=True)


def error_response(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def domain_error(exc: DocentError) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a domain error; unknown subclasses are 500s."""
    status = next((s for cls, s in _DOMAIN_STATUS if isinstance(exc, cls)), 500)
    if status == 500:
        return internal_error(exc)
    dependency = exc.dependency if isinstance(exc, DependencyError) else None
    return status, error_body(exc.code, exc.message, dependency=dependency)


def internal_error(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """Log ``exc`` with its traceback; the client gets only the request id to quote."""
    log.error("unhandled error", exc_info=(type(exc), exc, exc.__traceback__))
    return 500, error_body("internal", "internal error; quote the request id when reporting it")


def validation_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The body for the first validation error, naming its field when there is one."""
    if not errors:
        return error_body("invalid_request", "invalid request")
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return error_body("invalid_request", "request body is not valid JSON")
    path = loc[1:] if loc and loc[0] in _LOCATIONS else loc
    field = ".".join(path) or None
    if first.get("type") == "missing" and field is None:
        return error_body("invalid_request", "request body is required")
    message = str(first.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    return error_body("invalid_request", f"{field}: {message}" if field else message, field=field)


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_error(list(exc.errors())))


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    response = error_response(exc.status_code, error_body(code, message))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _on_domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DocentError)
    status, body = domain_error(exc)
    return error_response(status, body)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; anything else is turned into a 500 by the request middleware."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(DocentError, _on_domain)


def check_length(text: str, limit: int, loc: tuple[str | int, ...]) -> None:
    """A 422 like pydantic's own when ``text`` is over ``limit`` characters (a setting, so it
    cannot live in the request schema)."""
    if len(text) > limit:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": loc,
                    "msg": f"String should have at most {limit} characters",
                    "input": None,
                }
            ]
        )
