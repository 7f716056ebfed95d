"""One HTTP GET for the web tools: a JSON body or a :class:`ToolError` the model can read."""

from __future__ import annotations

from typing import Any

import httpx

from services.gateway.agent.tools.base import ToolError


async def get_json(
    client: httpx.AsyncClient, service: str, url: str, params: dict[str, Any]
) -> dict[str, Any]:
    """GET ``url`` and decode its JSON object; every failure named after ``service``."""
    try:
        response = await client.get(url, params=params)
    except httpx.TimeoutException:
        raise ToolError(f"{service} did not answer in time", "timeout") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"{service} is unreachable ({type(exc).__name__})", "unavailable") from None
    if response.status_code >= 400:
        reason = _reason(response)
        raise ToolError(f"{service} answered HTTP {response.status_code}{reason}", "http")
    try:
        body = response.json()
    except ValueError:
        raise ToolError(f"{service} answered something that is not JSON", "http") from None
    if not isinstance(body, dict):
        raise ToolError(f"{service} answered an unexpected JSON value", "http")
    return body


def _reason(response: httpx.Response) -> str:
    """Open-Meteo's ``{"error": true, "reason": ...}`` or MediaWiki's ``{"error": {"info"}}``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        if isinstance(body.get("reason"), str):
            return f": {body['reason']}"
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("info"), str):
            return f": {error['info']}"
    return ""
