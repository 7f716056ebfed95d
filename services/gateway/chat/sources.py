"""Sources as the client sees them, and the citations an answer is owed.

Sources are numbered in prompt order, so ``[n]`` in the answer points at source ``n``; the
client gets a one-line snippet instead of the whole chunk.

Small local models (the offline default has 135M parameters) rarely write ``[n]`` markers
however the prompt asks. Rather than return an answer with no provenance, the gateway
attributes it: each source is scored by how much of the answer's vocabulary it contains, and
the sources that clear a threshold are cited at the end of the answer. ``metadata.citation_mode``
tells a client whether the markers came from the model or from this attribution.
"""

from __future__ import annotations

from collections.abc import Sequence

from docentlib.support import content_words, lexical_support
from services.gateway.chat.rerank import Ranked
from services.gateway.chat.schemas import Source


def to_sources(ranked: Sequence[Ranked], snippet_chars: int | None) -> list[Source]:
    """Numbered ``[1]..[n]`` in prompt order, so ``[n]`` in the answer points at ``n``.

    ``snippet_chars`` None: each source carries its whole passage (``full_sources``)."""
    return [
        Source(
            n=n,
            chunk_id=r.hit.chunk_id,
            doc_id=r.hit.doc_id,
            title=r.hit.title,
            source_path=r.hit.source_path,
            heading_path=list(r.hit.heading_path),
            text=r.hit.text if snippet_chars is None else snippet(r.hit.text, snippet_chars),
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


def attribute(
    answer: str, passages: Sequence[str], min_support: float = 0.2, max_citations: int = 3
) -> list[int]:
    """1-based numbers of the passages that support ``answer``, best first.

    A passage's support is the share of the answer's content words it contains
    (:func:`docentlib.support.lexical_support`, the project's one scorer). Passages below
    ``min_support`` are never cited, so an answer unrelated to its sources cites nothing.
    """
    if not content_words(answer):
        return []
    support = [(lexical_support(answer, p), n) for n, p in enumerate(passages, 1)]
    ranked = sorted((s for s in support if s[0] >= min_support), key=lambda s: (-s[0], s[1]))
    return [n for _, n in ranked[:max_citations]]


def citation_suffix(numbers: Sequence[int]) -> str:
    """`` [1][3]``: appended to an answer that cited nothing itself."""
    return " " + "".join(f"[{n}]" for n in numbers) if numbers else ""
