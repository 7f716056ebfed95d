"""Cutting one over-long span of text into pieces of at most ``max_chars``, with overlap.

Each cut goes at the strongest boundary available near the ideal length: a paragraph break,
else a sentence end (or a code line, or a list item), else any line break, else a space, and
only for a single token longer than ``max_chars`` in the middle of a word. Pieces are sized
evenly rather than greedily so a section is never left with a runt at its end.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from docentlib.documents.fences import Line

_SENTENCE_END = re.compile(r"[.!?:;][)\]\"'*_`]*(?=[ \t\n])")
_BLOCK_START = re.compile(r"[ \t]*(?:[-*+|>]|\d+[.)])[ \t]")  # list item, table row, quote
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Boundaries:
    """Candidate cut offsets of one text, by strength (strongest first), each sorted.

    A cut at offset ``b`` ends a piece at ``b`` (trailing whitespace trimmed) and lets the
    next piece start at the first non-space character at or after ``b``.
    """

    levels: tuple[list[int], ...]

    @classmethod
    def of(cls, text: str, lines: list[Line]) -> Boundaries:
        paragraph: list[int] = []
        sentence: list[int] = []
        line_break: list[int] = []
        head, tail = _fence_edges(lines)
        for i in range(1, len(lines)):
            previous, line = lines[i - 1], lines[i]
            if line.blank and not line.code:
                paragraph.append(line.start)
            elif line.code and previous.code:
                if not (head[i - 1] or tail[i]):  # never strand a fence line from its code
                    sentence.append(previous.end)  # inside code, every line is a "sentence"
            elif line.code or previous.code or _BLOCK_START.match(text, line.start):
                sentence.append(previous.end)  # code blocks and list items start "sentences"
            else:
                line_break.append(previous.end)
        for line in lines:
            if not line.code and not line.blank:  # + 1: let the lookahead see the newline
                found = _SENTENCE_END.finditer(text, line.start, line.end + 1)
                sentence.extend(m.end() for m in found)
        sentence.sort()
        return cls((paragraph, sentence, line_break))

    def nearest(self, lo: int, hi: int, target: int) -> int | None:
        """The strongest boundary in ``[lo, hi]``, nearest to ``target`` within its level."""
        for level in self.levels:
            left, right = bisect.bisect_left(level, lo), bisect.bisect_right(level, hi)
            if left < right:
                i = bisect.bisect_left(level, target, left, right)
                options = level[max(left, i - 1) : min(right, i + 1)]
                return min(options, key=lambda b: abs(b - target))
        return None

    def earliest(self, lo: int, hi: int) -> int | None:
        """The first boundary of any level in ``[lo, hi)``: the largest whole-unit overlap."""
        found = [lvl[i] for lvl in self.levels if (i := bisect.bisect_left(lvl, lo)) < len(lvl)]
        found = [b for b in found if b < hi]
        return min(found) if found else None


def _fence_edges(lines: list[Line]) -> tuple[list[bool], list[bool]]:
    """Per line: is it an opening fence (or blank after one), a closing fence (or blank before)?

    Cutting next to those lines would leave a bare fence line at the edge of a piece.
    """
    size = len(lines)
    head, tail = [False] * size, [False] * size
    for i, line in enumerate(lines):
        if line.code:
            opener = i == 0 or not lines[i - 1].code
            head[i] = opener or (line.blank and head[i - 1])
    for i in range(size - 1, -1, -1):
        line = lines[i]
        if line.code:
            closer = i + 1 == size or not lines[i + 1].code
            tail[i] = closer or (line.blank and tail[i + 1])
    return head, tail


def skip_space(text: str, pos: int, end: int) -> int:
    """First non-space offset in ``[pos, end)`` (or ``end``): chunks never start with space."""
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def trim_end(text: str, start: int, end: int) -> int:
    """``end`` moved back over trailing space: trimming by offsets keeps chunks exact slices."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _word_cut(text: str, lo: int, hi: int, target: int) -> int | None:
    """A whitespace offset in ``[lo, hi]`` nearest to ``target``, if there is one."""
    before = max(text.rfind(ch, lo, target + 1) for ch in " \n\t")
    after = _SPACE.search(text, target, hi + 1)
    options = [b for b in (before, after.start() if after else -1) if b >= lo]
    return min(options, key=lambda b: abs(b - target)) if options else None


def _overlap_start(text: str, bounds: Boundaries, start: int, end: int, overlap: int) -> int:
    """Where the next piece starts: the whole sentences/lines within the last ``overlap``
    chars of the piece ``[start, end)``, else its last words; ``end`` means no overlap."""
    lo = max(end - overlap, start + 1)
    if overlap <= 0 or lo >= end:
        return end
    cut = bounds.earliest(lo, end)
    if cut is None:
        space = _SPACE.search(text, lo, end)
        cut = space.start() if space else None
    if cut is None:
        return end
    begin = min(skip_space(text, cut, end), end)
    # an overlap of bare punctuation (a lone closing fence) repeats nothing worth repeating
    return begin if any(ch.isalnum() for ch in text[begin:end]) else end


def split_span(
    text: str, bounds: Boundaries, start: int, end: int, max_chars: int, overlap: int
) -> list[tuple[int, int]]:
    """Trimmed ``(start, end)`` pieces covering ``text[start:end]``, each <= ``max_chars``."""
    start, end = skip_space(text, start, end), trim_end(text, start, end)
    pieces: list[tuple[int, int]] = []
    pos = start
    while end - pos > max_chars:
        remaining = end - pos
        count = max(2, math.ceil((remaining - overlap) / max(max_chars - overlap, 1)))
        target = pos + min(max_chars, math.ceil((remaining + (count - 1) * overlap) / count))
        hi = pos + max_chars
        # each piece must end past the last one's end, not just past its trailing space
        floor = max(pos, skip_space(text, pieces[-1][1], end) if pieces else pos) + 1
        cut = None
        for lo in dict.fromkeys((max(pos + max_chars // 2, floor), floor)):
            cut = bounds.nearest(lo, hi, target)
            if cut is None:
                cut = _word_cut(text, lo, hi, target)
            if cut is not None:
                break
        if cut is None:
            cut = hi  # one token longer than max_chars: the only place left is inside it
        piece_end = trim_end(text, pos, cut)
        pieces.append((pos, piece_end))
        following = skip_space(text, cut, end)
        overlap_start = _overlap_start(text, bounds, pos, piece_end, overlap)
        pos = overlap_start if overlap_start < piece_end else following
    if pos < end:
        pieces.append((pos, end))
    return pieces
