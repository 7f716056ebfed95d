"""``wikipedia``: the MediaWiki action API, search then the plain-text intro of the best page.

Two requests, as the API documents them: ``action=query&list=search`` (CirrusSearch) for the
best-matching title, then ``action=query&prop=extracts&exintro&explaintext`` (TextExtracts) for
that page's lead section. ``formatversion=2`` gives pages as a list and booleans as booleans.
An API-level error (HTTP 200 with ``{"error": {...}}``) is reported like an HTTP error.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from docentlib.agent.protocol import ToolSpec
from services.gateway.agent.tools.base import RunContext, ToolError, ToolResult
from services.gateway.agent.tools.http import get_json

SPEC = ToolSpec(
    name="wikipedia",
    description="facts from Wikipedia",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 120}},
        "required": ["query"],
        "additionalProperties": False,
    },
)
DEFAULT_URL = "https://en.wikipedia.org/w/api.php"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class WikipediaTool:
    """Usage::

    tool = WikipediaTool("https://en.wikipedia.org/w/api.php", timeout_s=5)
    (await tool.run({"query": "capital of France"})).text  # "Paris: Paris is the capital..."
    """

    spec = SPEC

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        timeout_s: float = 5.0,
        max_chars: int = 500,
        user_agent: str = "Docent-agent/0.1",
    ) -> None:
        self.base_url, self.timeout_s, self.max_chars = base_url, timeout_s, max_chars
        self._client = httpx.AsyncClient(
            timeout=timeout_s, headers={"User-Agent": user_agent}, follow_redirects=True
        )

    async def run(self, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        query = str(arguments["query"]).strip()
        if not query:
            raise ToolError("the query is empty", "bad_arguments")
        title = await self._best_title(query)
        extract = await self._extract(title)
        return ToolResult(summarize(title, extract, self.max_chars))

    async def _best_title(self, query: str) -> str:
        body = await self._query(
            {"list": "search", "srsearch": query, "srlimit": 1, "srprop": "snippet"}
        )
        hits = body.get("query", {}).get("search", [])
        if not hits:
            raise ToolError(f"no Wikipedia article matches {query!r}", "not_found")
        return str(hits[0]["title"])

    async def _extract(self, title: str) -> str:
        body = await self._query(
            {"prop": "extracts", "exintro": 1, "explaintext": 1, "titles": title, "redirects": 1}
        )
        pages = body.get("query", {}).get("pages", [])
        page = pages[0] if pages else {}
        if page.get("missing") or not page.get("extract"):
            raise ToolError(f"the Wikipedia article {title!r} has no text", "not_found")
        return str(page["extract"])

    async def _query(self, params: dict[str, Any]) -> dict[str, Any]:
        base = {"action": "query", "format": "json", "formatversion": 2}
        body = await get_json(self._client, "Wikipedia", self.base_url, {**base, **params})
        error = body.get("error")
        if isinstance(error, dict):
            raise ToolError(f"Wikipedia refused the query: {error.get('info', error)}", "http")
        return body

    async def close(self) -> None:
        await self._client.aclose()


def summarize(title: str, extract: str, max_chars: int) -> str:
    """``Title: first sentences``, whole sentences up to ``max_chars`` (at least one, cut)."""
    text = " ".join(extract.split())
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        if kept and len(kept) + 1 + len(sentence) > max_chars:
            break
        kept = f"{kept} {sentence}".strip()
    return f"{title}: {kept[:max_chars]}"
