"""Sources as the client sees them: numbered, with a one-line snippet instead of the chunk."""

from __future__ import annotations

from collections.abc import Sequence

from services.gateway.rerank import Ranked
from services.gateway.schemas import Source


def to_sources(ranked: Sequence[Ranked], snippet_chars: int) -> list[Source]:
    """Numbered ``[1]..[n]`` in prompt order, so ``[n]`` in the answer points at ``n``."""
    return [
        Source(
            n=n,
            chunk_id=r.hit.chunk_id,
            doc_id=r.hit.doc_id,
            title=r.hit.title,
            source_path=r.hit.source_path,
            heading_path=list(r.hit.heading_path),
            text=snippet(r.hit.text, snippet_chars),
            score=r.hit.score,
            retriever_scores=dict(r.hit.retriever_scores),
            rerank_score=r.rerank_score,
        )
        for n, r in enumerate(ranked, start=1)
    ]


def snippet(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut + "…"
