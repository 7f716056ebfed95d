"""``search_docs``: Docent's own retrieval (embedding + hybrid search) over the knowledge base.

The passages found are numbered after those of earlier calls in the same run and recorded in
the run's sources, so the final answer's ``[n]`` markers point at real passages and the
``done`` event carries them, as chat does.
"""

from __future__ import annotations

from typing import Any

from docentlib.agent.protocol import ToolSpec
from services.gateway.agent.tools.base import RunContext, ToolError, ToolResult
from services.gateway.chat.schemas import Source
from services.gateway.chat.sources import snippet
from services.runtime.clients import DependencyError, EmbeddingClient, RetrievalClient

SPEC = ToolSpec(
    name="search_docs",
    description="search the Kubernetes documentation",
    parameters={
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 120}},
        "required": ["query"],
        "additionalProperties": False,
    },
)


class SearchDocsTool:
    """Usage::

    tool = SearchDocsTool(embedding, retrieval, k=3, mode="hybrid")
    (await tool.run({"query": "What is a Pod?"}, context)).text  # "[1] Pods: A Pod is ..."
    """

    spec = SPEC

    def __init__(
        self,
        embedding: EmbeddingClient,
        retrieval: RetrievalClient,
        k: int = 3,
        mode: str = "hybrid",
        snippet_chars: int = 300,
        timeout_s: float = 10.0,
    ) -> None:
        self.embedding, self.retrieval = embedding, retrieval
        self.k, self.mode, self.snippet_chars, self.timeout_s = k, mode, snippet_chars, timeout_s

    async def run(self, arguments: dict[str, Any], context: RunContext) -> ToolResult:
        query = str(arguments["query"]).strip()
        if not query:
            raise ToolError("the query is empty", "bad_arguments")
        try:
            vector = None
            if self.mode != "sparse":
                vector = (await self.embedding.embed([query]))[0].tolist()
            hits = await self.retrieval.search(query, vector, self.k, self.mode)
        except DependencyError as exc:
            raise ToolError(
                f"the documentation search is unavailable ({exc.dependency})", "unavailable"
            ) from None
        if not hits:
            raise ToolError(f"nothing in the documentation matches {query!r}", "not_found")
        lines = []
        for hit in hits:
            n = len(context.sources) + 1
            text = snippet(hit.text, self.snippet_chars)
            context.sources.append(
                Source(
                    n=n,
                    chunk_id=hit.chunk_id,
                    doc_id=hit.doc_id,
                    title=hit.title,
                    source_path=hit.source_path,
                    heading_path=list(hit.heading_path),
                    text=text,
                    score=hit.score,
                    retriever_scores=dict(hit.retriever_scores),
                )
            )
            lines.append(f"[{n}] {hit.title}: {text}")
        return ToolResult("\n".join(lines))

    async def close(self) -> None:
        return None  # the clients belong to the chat pipeline
