"""What each model reads of a passage, one definition for ingestion, serving, training and eval.

Title and headings say what a chunk is about when its text alone does not, so both the
embedding model and the cross-encoder see them; keeping the two recipes here means an index
built by ingestion and a reranker trained offline read passages exactly as serving does.
"""

from __future__ import annotations

from collections.abc import Sequence

from docentlib.documents.types import ParsedDocument, TextChunk


def embedding_text(doc: ParsedDocument, chunk: TextChunk) -> str:
    """What the embedding model sees: the chunk with its title and headings for context."""
    context = " > ".join([doc.title, *chunk.heading_path])
    return f"{context}\n{chunk.text}"


def rerank_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """What the cross-encoder reads of a passage, in training and in serving alike: the title
    and headings say what a chunk is about when its text alone does not."""
    context = " > ".join(part for part in (title, *heading_path) if part)
    return f"{context}\n{text}" if context else text
