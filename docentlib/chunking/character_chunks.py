"""Chunking: a parsed document into heading-aware, overlapping slices of its cleaned text.

Chunks follow the document's sections so each one is about one thing and carries the heading
path that says what; long sections are cut at the strongest boundaries (see ``splitting``)
and tiny ones are folded into a neighbour instead of becoming useless one-line chunks. Every
chunk is an exact slice, ``doc.text[char_start:char_end]``, so citations can point into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from docentlib.chunking.sections import Section, split_sections
from docentlib.chunking.splitting import Boundaries, skip_space, split_span, trim_end
from docentlib.documents.fences import scan_lines
from docentlib.documents.types import ParsedDocument, TextChunk
from docentlib.errors import InvalidInput


@dataclass(slots=True)
class SectionUnit:
    """A span to chunk on its own: one section, or a tiny section merged with a neighbour."""

    path: tuple[str, ...]
    heading_start: int
    start: int
    end: int


def _validate(max_chars: int, overlap_chars: int, min_chars: int) -> None:
    for name, value in (
        ("max_chars", max_chars),
        ("overlap_chars", overlap_chars),
        ("min_chars", min_chars),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if max_chars <= 0:
        raise InvalidInput(f"max_chars must be positive, got {max_chars}")
    if overlap_chars < 0:
        raise InvalidInput(f"overlap_chars must be >= 0, got {overlap_chars}")
    if overlap_chars >= max_chars:
        raise InvalidInput(
            f"overlap_chars must be smaller than max_chars ({max_chars}), got {overlap_chars}"
        )
    if min_chars < 0 or min_chars > max_chars:
        raise InvalidInput(
            f"min_chars must be between 0 and max_chars ({max_chars}), got {min_chars}"
        )


def _within(path: tuple[str, ...], parent: tuple[str, ...]) -> bool:
    return path[: len(parent)] == parent


def section_units(text: str, sections: list[Section], min_chars: int) -> list[SectionUnit]:
    """Trimmed, non-empty section bodies, with those under ``min_chars`` merged.

    A tiny section joins the next one when that is in the same parent (its path then being the
    next one's; if the next one is not its own subsection the tiny one's heading line goes into
    the text so its words survive); otherwise it joins the previous unit of the same parent.
    """
    units: list[SectionUnit] = []
    pending: SectionUnit | None = None
    for section in sections:
        start = skip_space(text, section.body_start, section.body_end)
        end = trim_end(text, start, section.body_end)
        if start >= end:
            continue  # a heading directly followed by another heading
        unit = SectionUnit(section.path, section.heading_start, start, end)
        if pending is not None:
            if _within(unit.path, pending.path):
                unit.start = unit.heading_start = pending.start
            elif _within(unit.path, pending.path[:-1]):
                unit.start = unit.heading_start = pending.heading_start
            else:
                _flush(units, pending)
            pending = None
        if unit.end - unit.start < min_chars:
            pending = unit
        else:
            units.append(unit)
    if pending is not None:
        _flush(units, pending)
    return units


def _flush(units: list[SectionUnit], tiny: SectionUnit) -> None:
    """Append a tiny unit to the previous one in the same parent, or keep it alone."""
    if tiny.path and units and _within(units[-1].path, tiny.path[:-1]):
        units[-1].end = tiny.end
    else:
        units.append(tiny)


def chunk_document(
    doc: ParsedDocument, max_chars: int = 1200, overlap_chars: int = 150, min_chars: int = 80
) -> list[TextChunk]:
    """Split ``doc.text`` into chunks of at most ``max_chars`` characters.

    Pieces of one section overlap by up to ``overlap_chars`` (whole sentences or lines where
    possible); chunk ids are ``f"{doc_id}#{ordinal}"``, stable for unchanged text.
    """
    _validate(max_chars, overlap_chars, min_chars)
    text = doc.text
    if not text.strip():
        return []
    lines = scan_lines(text)
    bounds = Boundaries.of(text, lines)
    chunks: list[TextChunk] = []
    for unit in section_units(text, split_sections(text, lines), min_chars):
        for start, end in split_span(text, bounds, unit.start, unit.end, max_chars, overlap_chars):
            chunks.append(
                TextChunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    text=text[start:end],
                    heading_path=unit.path,
                    char_start=start,
                    char_end=end,
                )
            )
    return chunks
