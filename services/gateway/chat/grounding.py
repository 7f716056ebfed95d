"""The groundedness guard on the stream: sentence by sentence, only what the passages support.

Generated text is held until a sentence (or list item, or line of code) is complete, then:

- a sentence that repeats an earlier one, or an answer looping on the same words, ends
  generation (the stream is closed, which cancels the model's work);
- a sentence no passage supports (:func:`docentlib.support.judge`: lexical and semantic support,
  numbers checked) is dropped (``grounding=drop``) or released and listed
  (``grounding=mark``);
- a supported sentence the model did not cite gets the marker of the passage that supports it;
- when nothing supported was released by the end, the answer falls back to an extractive one:
  the passages' sentences closest to the question, each cited.

``metadata.groundedness`` says what the guard did. The passages' sentences are embedded once per
answer (one embedding call, while the model reads the prompt) and each answer sentence once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Sequence
from enum import StrEnum

import numpy as np

from docentlib.support import (
    DEFAULT_THRESHOLDS,
    SentenceSupport,
    SupportThresholds,
    content_words,
    judge,
    split_sentences,
    strip_citations,
)
from services.gateway.chat.events import DeltaEvent, ErrorEvent
from services.gateway.chat.schemas import Groundedness as GroundingReport
from services.runtime.clients import EmbeddingClient

# A unit ends after . ! ? (and any closing quote or bracket) followed by white space, or at a
# line break; a citation marker right after the full stop stays with its sentence.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s+|\n")
_CITED = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_NORMAL = re.compile(r"[^a-z0-9]+")
# A list marker at the end of held formatting ("2. ", "- ", "* "): it belongs to the next item.
_TRAILING_MARKER = re.compile(r"(?:^|(?<=\s))(?:\d{1,3}[.)]|[-*•+])\s*$")
LOOP_NGRAM, LOOP_REPEATS = 5, 3  # the same 5 words a third time: a loop
FALLBACK_SENTENCES = 3
MAX_BLOCK_LINES = 40  # an open code block is judged after this many lines, closed or not


class GroundingMode(StrEnum):
    DROP = "drop"  # unsupported sentences never reach the client
    MARK = "mark"  # released, and listed in metadata.groundedness.unsupported
    OFF = "off"


class PassageSupport:
    """The answer's passages, split and embedded once, and the judge of each new sentence."""

    def __init__(
        self,
        embedding: EmbeddingClient,
        question: str,
        passages: Sequence[str],
        thresholds: SupportThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.embedding, self.question, self.passages = embedding, question, list(passages)
        self.thresholds = thresholds
        self.sentences = [split_sentences(p) or [p] for p in self.passages]
        self.vectors: list[np.ndarray] | None = None
        self.question_vector: np.ndarray | None = None
        self._embedding: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Embed the passages in the background (while the model reads its prompt)."""
        self._embedding = asyncio.ensure_future(self._embed())

    async def close(self) -> None:
        if self._embedding is not None and not self._embedding.done():
            self._embedding.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._embedding

    async def _embed(self) -> None:
        """One embedding call: the question and every passage sentence."""
        flat = [s for sentences in self.sentences for s in sentences]
        vectors = await self.embedding.embed([self.question, *flat])
        self.question_vector, rest = vectors[0], vectors[1:]
        self.vectors, start = [], 0
        for sentences in self.sentences:
            self.vectors.append(rest[start : start + len(sentences)])
            start += len(sentences)

    async def judge(self, unit: str) -> SentenceSupport:
        if self._embedding is None:
            self.start()
        await asyncio.shield(self._embedding)  # type: ignore[arg-type]
        (vector,) = await self.embedding.embed([strip_citations(unit)])
        return judge(
            unit,
            self.passages,
            sentence_vector=vector,
            passage_vectors=self.vectors,
            thresholds=self.thresholds,
        )

    def extractive(self, count: int = FALLBACK_SENTENCES) -> str:
        """The passage sentences closest to the question, in passage order, each cited."""
        if self.vectors is None or self.question_vector is None:
            return ""
        scored = [
            (float(vectors[j] @ self.question_vector), i, j)
            for i, vectors in enumerate(self.vectors)
            for j in range(len(vectors))
            if len(content_words(self.sentences[i][j])) >= 3
        ]
        best = sorted(sorted(scored, reverse=True)[:count], key=lambda s: (s[1], s[2]))
        parts = [f"{self.sentences[i][j].strip()} [{i + 1}]" for _, i, j in best]
        return "From the sources: " + " ".join(parts) if parts else ""


class RepetitionWatch:
    """Spots a repeated sentence or a loop of words across the answer so far."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.grams: dict[tuple[str, ...], int] = {}

    def check(self, unit: str) -> str | None:
        """``repetition``, ``loop`` or None for the next unit of the answer."""
        key = _NORMAL.sub(" ", strip_citations(unit).lower()).strip()
        if len(key) >= 12 and key in self.seen:
            return "repetition"
        self.seen.add(key)
        words = key.split()
        for i in range(len(words) - LOOP_NGRAM + 1):
            gram = tuple(words[i : i + LOOP_NGRAM])
            self.grams[gram] = self.grams.get(gram, 0) + 1
            if self.grams[gram] >= LOOP_REPEATS:
                return "loop"
        return None


class CodeFence:
    """Holds the lines of a fenced code block until it closes: the block is judged as one unit
    (as :func:`split_sentences` reads it), so a ``# comment`` inside it is not taken for a
    heading and let through unjudged. A block still open after ``max_lines`` lines (a small
    model that never closes its fence) is judged as it stands and the rest read as prose, so
    the stream is not held until the end of generation."""

    def __init__(self, max_lines: int = MAX_BLOCK_LINES) -> None:
        self.lines: list[str] | None = None
        self.max_lines = max_lines
        self.spilled = False  # a block was cut at max_lines: its closing fence is still to come

    def whole_blocks(self, units: Sequence[str]) -> list[str]:
        out: list[str] = []
        for unit in units:
            is_fence = unit.lstrip().startswith("```")
            if self.lines is None:
                if is_fence and not self.spilled:
                    self.lines = [unit]
                else:  # prose, or the closing fence of a block already let out
                    out.append(unit)
                    self.spilled = self.spilled and not is_fence
            else:
                self.lines.append(unit)
                if is_fence or len(self.lines) >= self.max_lines:
                    out.append("".join(self.lines))
                    self.lines, self.spilled = None, not is_fence
        return out

    def rest(self) -> str:
        """An unclosed block at the end of the answer."""
        rest, self.lines = "".join(self.lines or []), None
        return rest


def complete_units(buffer: str) -> tuple[list[str], str]:
    """The complete units at the start of ``buffer`` (raw text, spacing kept) and the rest."""
    units, start = [], 0
    for match in _BOUNDARY.finditer(buffer):
        if match.end() > start:
            units.append(buffer[start : match.end()])
            start = match.end()
    return units, buffer[start:]


async def grounded(
    source: AsyncGenerator[DeltaEvent | ErrorEvent, None],
    support: PassageSupport,
    mode: GroundingMode,
    report: GroundingReport,
) -> AsyncGenerator[DeltaEvent | ErrorEvent, None]:
    """``source``'s text, released unit by unit as the guard allows (see the module docstring).

    Formatting (list numbers, headings, blank lines) goes out only in front of the next sentence
    that is released: a list marker whose item was dropped goes with it, and formatting with no
    sentence after it is never shown ("1. 2." before a fallback answer).
    """
    watch, buffer, released, held = RepetitionWatch(), "", False, ""
    fence = CodeFence()

    async def release(unit: str) -> str:
        """What of ``unit`` goes out now, with the formatting held before it."""
        nonlocal held, released
        if not split_sentences(unit):  # formatting only: wait for a sentence
            if released and _CITED.search(unit) and not strip_citations(unit).strip():
                return unit  # a marker on its own line cites what came before it
            held += unit
            return ""
        text = await _screen(unit, support, mode, report, watch)
        if not text:  # dropped (or a loop): so is the list marker that introduced it
            held = _TRAILING_MARKER.sub("", held)
            return ""
        text, held, released = held + text, "", True
        return text

    try:
        async for event in source:
            if isinstance(event, ErrorEvent):
                yield event
                return
            units, buffer = complete_units(buffer + event.text)
            for unit in fence.whole_blocks(units):
                text = await release(unit)
                if report.stopped:
                    break
                if text:
                    yield DeltaEvent(text)
            if report.stopped:
                break
        rest = fence.rest() + buffer
        if rest and not report.stopped:
            text = await release(rest)
            if text and not report.stopped:
                yield DeltaEvent(text)
    finally:
        with contextlib.suppress(Exception):
            await source.aclose()
    if report.supported == 0 and (fallback := support.extractive()):
        report.fallback = True
        yield DeltaEvent(("\n\n" if released else "") + fallback)


async def _screen(
    unit: str,
    support: PassageSupport,
    mode: GroundingMode,
    report: GroundingReport,
    watch: RepetitionWatch,
) -> str:
    """What of ``unit`` may go out ("" when nothing); sets ``report.stopped`` on a loop."""
    unit = known_markers(unit, len(support.passages))
    claims = split_sentences(unit)
    if not claims:  # blank lines, a heading, a lone citation marker: formatting only
        return unit
    if stopped := watch.check(unit):
        report.stopped = stopped
        return ""
    verdicts = [await support.judge(claim) for claim in claims]
    report.sentences += 1
    if all(v.supported for v in verdicts):
        report.supported += 1
        return _cited(unit, verdicts, report)
    report.unsupported.append(unit.strip())
    if mode == GroundingMode.MARK:
        return unit
    report.dropped += 1
    return ""


def _cited(unit: str, verdicts: Sequence[SentenceSupport], report: GroundingReport) -> str:
    """``unit`` with the supporting passage's marker when the model cited nothing in it."""
    if _CITED.search(unit) or verdicts[0].passage is None:
        return unit
    body, marker = unit.rstrip(), f" [{verdicts[0].passage + 1}]"
    report.cited_by_guard += 1
    if body.endswith("```"):  # after a code block, on a line of its own
        return f"{body}\n[{verdicts[0].passage + 1}]{unit[len(body) :]}"
    if body[-1:] in ".!?":  # before the full stop: "... revision [2]."
        return f"{body[:-1]}{marker}{body[-1]}{unit[len(body) :]}"
    return f"{body}{marker}{unit[len(body) :]}"


def known_markers(unit: str, count: int) -> str:
    """``unit`` without citation numbers that name no passage: a small model writes "[4]" when
    it was given three (or when passages were dropped as injected), and a client would follow
    it to nothing. Code blocks are left alone (``x[4]`` is not a citation)."""
    if "```" in unit:
        return unit

    def keep(match: re.Match[str]) -> str:
        numbers = [n for n in re.findall(r"\d+", match.group()) if 1 <= int(n) <= count]
        return f"[{', '.join(numbers)}]" if numbers else ""

    cleaned = _CITED.sub(keep, unit)
    if cleaned == unit:
        return unit
    cleaned = re.sub(r"(?<=\S) {2,}(?=\S)", " ", cleaned)  # where a marker stood between words
    return cleaned.lstrip(" ") if not unit.startswith(" ") else cleaned
