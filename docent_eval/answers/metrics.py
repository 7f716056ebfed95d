"""Scores of one answer, each a plain function of text so tests can check them by hand.

- correctness: the share of ``must_contain`` terms the answer contains (case-insensitive), and
  SQuAD-style token F1 against the reference answer;
- groundedness: the share of answer sentences that a passage the answer was given supports;
- reference support: the share of answer sentences the reference answer supports (the same
  judge, with the reference as the only passage): comparable with and without retrieval, so it
  is the hallucination measure of the two modes;
- citation precision: of the (sentence, cited passage) pairs, the share where that passage
  supports the sentence.

Support is :func:`docentlib.support.judge`, the judge the gateway's groundedness guard uses:
lexical overlap, and semantic similarity when an embedding function is given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from docentlib.support import judge, split_sentences, strip_citations

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors, one row per text
_WORDS = re.compile(r"[a-z0-9]+")
_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
EXTRACTIVE_PREFIX = "From the sources: "


def must_contain_share(answer: str, terms: Sequence[str]) -> float | None:
    """Share of ``terms`` found in the answer, ignoring case; None without terms."""
    if not terms:
        return None
    text = answer.lower()
    return sum(term.lower() in text for term in terms) / len(terms)


def token_f1(answer: str, reference: str) -> float | None:
    """Token F1 of the answer (citation markers removed) against the reference; None without one."""
    if not reference.strip():
        return None
    a = _WORDS.findall(strip_citations(answer).lower())
    r = _WORDS.findall(reference.lower())
    common = sum((Counter(a) & Counter(r)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences, as the guard cuts them (an extractive prefix removed)."""
    return [s for s in split_sentences(answer.removeprefix(EXTRACTIVE_PREFIX)) if s.strip()]


def cited_numbers(sentence: str) -> list[int]:
    """The ``[n]`` numbers a sentence cites, in order, without repeats."""
    seen: list[int] = []
    for match in _MARKERS.finditer(sentence):
        for part in match.group(1).split(","):
            if (n := int(part)) not in seen:
                seen.append(n)
    return seen


@dataclass(frozen=True)
class Support:
    """Sentence-level support of one answer by a set of passages."""

    sentences: int
    supported: int

    @property
    def share(self) -> float | None:
        return self.supported / self.sentences if self.sentences else None


class SupportJudge:
    """Judges sentences against passages; embeds each text once when given ``embed``."""

    def __init__(self, embed: Embed | None = None) -> None:
        self.embed = embed

    def _vectors(self, sentences: list[str], passages: Sequence[str]):
        if self.embed is None or not sentences or not passages:
            return None, None
        groups = [split_sentences(p) or [p] for p in passages]
        flat = [s for group in groups for s in group]
        vectors = self.embed([strip_citations(s) for s in sentences] + flat)
        sentence_vectors, rest = vectors[: len(sentences)], vectors[len(sentences) :]
        per_passage, start = [], 0
        for group in groups:
            per_passage.append(rest[start : start + len(group)])
            start += len(group)
        return sentence_vectors, per_passage

    def verdicts(self, sentences: list[str], passages: Sequence[str]) -> list[bool]:
        """Whether any of ``passages`` supports each sentence (no passages: none is)."""
        if not passages:
            return [False] * len(sentences)
        vectors, per_passage = self._vectors(sentences, passages)
        return [
            judge(
                s,
                passages,
                sentence_vector=None if vectors is None else vectors[i],
                passage_vectors=per_passage,
            ).supported
            for i, s in enumerate(sentences)
        ]

    def support(self, sentences: list[str], passages: Sequence[str]) -> Support:
        return Support(len(sentences), sum(self.verdicts(sentences, passages)))

    def citation_precision(self, sentences: list[str], passages: Sequence[str]) -> tuple[int, int]:
        """(supported pairs, cited pairs): each [n] judged against passage n alone.

        A marker naming no given passage counts as an unsupported citation.
        """
        pairs = [(s, n) for s in sentences for n in cited_numbers(s)]
        good = 0
        for sentence, n in pairs:
            if 1 <= n <= len(passages):
                good += self.verdicts([sentence], [passages[n - 1]])[0]
        return good, len(pairs)
