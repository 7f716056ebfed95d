"""The error responses each route declares, so the served OpenAPI spec lists every one.

Every error body is :class:`ErrorBody`; the descriptions name the stable codes a client can
branch on.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.gateway.chat.schemas import ErrorBody

DESCRIPTIONS = {
    400: "The request cannot be served as asked: `invalid_request` (a body that cannot be "
    "decoded), `invalid_input`, `context_length_exceeded` (the prompt leaves no room for "
    "max_tokens in the model's context window).",
    401: "Missing or unknown API key.",
    403: "The API key lacks the scope this route needs.",
    404: "Unknown route, conversation or model (`not_found`, `model_not_found`).",
    413: "The request body is larger than the limit (`payload_too_large`).",
    422: "A field is missing or out of range (`invalid_request`; `field` names it).",
    429: "Rate limit exceeded (`rate_limited`); see `Retry-After`.",
    500: "Unexpected failure (`internal`); quote `request_id` when reporting it.",
    503: "A required dependency is down, failing or too slow (`dependency_unavailable`; "
    "`dependency` names it).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: one :class:`ErrorBody` entry per status."""
    return {s: {"model": ErrorBody, "description": DESCRIPTIONS[s]} for s in statuses}


def _error_entry(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def install_common_errors(app: FastAPI) -> None:
    """Document, on every operation, the errors that middleware and handlers return anywhere.

    The request middleware answers 413 to any body over the limit and 500 to any crash, a body
    that cannot be decoded is a 400, and the validation handler answers 422 with
    :class:`ErrorBody` (not FastAPI's default body), so these are added to (or corrected in)
    the spec once here rather than on each route.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        assert "ErrorBody" in schemas, "no route declares ErrorBody (routes/chat.py does)"
        for methods in spec.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                responses.setdefault("500", _error_entry(500))
                if "requestBody" in operation:  # unreadable bodies are refused before routes
                    responses.setdefault("400", _error_entry(400))
                    responses.setdefault("413", _error_entry(413))
                if "422" in responses:
                    responses["422"] = _error_entry(422)
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
