"""The values that flow through ingestion; frozen so a stage can never mutate another's output."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One source file after cleaning.

    ``text`` is the cleaned markdown body that chunks are sliced from, so a citation's offsets
    point back into it; ``content_hash`` is the sha256 of the raw file and lets re-ingestion
    skip unchanged documents.
    """

    doc_id: str
    title: str
    source_path: str
    text: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A retrievable piece of a document: always ``doc.text[char_start:char_end]``.

    ``heading_path`` holds the markdown headings above the chunk (not the document title), so
    the index can add context without the chunk text repeating it.
    """

    chunk_id: str
    text: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
