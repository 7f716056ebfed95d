"""One place that turns chunking settings into a chunker, so ingestion, the retrieval eval and
tests cut documents identically (a figure measured on chunks is only true of the chunks
ingestion makes)."""

from __future__ import annotations

from typing import Protocol

from docentlib.chunking.semantic import SemanticChunker, TokenBounds
from docentlib.chunking.static_embeddings import StaticEmbedder
from docentlib.chunking.tokens import TokenCounter


class ChunkingSettings(Protocol):
    """The fields of ``IngestSettings`` that decide where chunks are cut."""

    tokenizer: str
    max_tokens: int
    min_tokens: int
    overlap_tokens: int
    semantic: bool


def chunker_from_settings(settings: ChunkingSettings) -> SemanticChunker:
    """The chunker ingestion uses for these settings (semantic cuts only when enabled)."""
    return SemanticChunker(
        TokenCounter.for_model(settings.tokenizer),
        TokenBounds(settings.max_tokens, settings.min_tokens, settings.overlap_tokens),
        StaticEmbedder.for_model(settings.tokenizer) if settings.semantic else None,
    )
