"""Heading structure: a cleaned markdown text as a flat list of sections with heading paths."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docentlib.documents.fences import Line

# ATX heading: up to 3 spaces, 1-6 '#', a space, text, optional closing '#'s and {#anchor}.
_ATX = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")


@dataclass(frozen=True, slots=True)
class Section:
    """The body under one heading (or before the first), up to the next heading of any level.

    ``heading_start`` is where the heading line starts (== ``body_start`` for the preamble), so
    a merged chunk can include the heading when its words would otherwise be lost.
    """

    path: tuple[str, ...]
    heading_start: int
    body_start: int
    body_end: int


def heading_of(text: str, line: Line) -> tuple[int, str] | None:
    """(level, title) when ``line`` is an ATX heading outside code, else None."""
    if line.code or line.blank or text[line.start : line.start + 4].lstrip(" ")[:1] != "#":
        return None
    match = _ATX.match(text, line.start, line.end)
    if match is None:
        return None
    title = _ANCHOR.sub("", match.group(2)).strip()
    return (len(match.group(1)), title) if title else None


def split_sections(text: str, lines: list[Line]) -> list[Section]:
    """Cut ``text`` at every heading, tracking the path of enclosing headings."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    path: tuple[str, ...] = ()
    heading_start = body_start = 0
    for line in lines:
        heading = heading_of(text, line)
        if heading is None:
            continue
        sections.append(Section(path, heading_start, body_start, line.start))
        level = heading[0]
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append(heading)
        path = tuple(t for _, t in stack)
        heading_start, body_start = line.start, min(line.end + 1, len(text))
    sections.append(Section(path, heading_start, body_start, len(text)))
    return sections
