"""Is a sentence of an answer supported by the passages the answer was given?

One scorer for the whole project: the gateway attributes citations and guards groundedness with
it, ``docent eval answers`` measures groundedness and citation precision with it. Two signals:

- **lexical support**: the share of the sentence's content words (:func:`content_words`) that the
  passage contains. Cheap, exact for commands, field names and numbers, blind to paraphrase.
- **semantic support**: the best cosine between the sentence's embedding and the embeddings of
  the passage's sentences (MiniLM, as the embedding service serves it). Sees paraphrase, blind
  to a changed number or a negation.

The functions are pure over vectors the caller computes (the gateway asks the embedding service,
the evaluator embeds in process), so nothing here loads a model. A sentence is supported by a
passage when either signal clears its threshold (:class:`SupportThresholds`) and every number in
the sentence stands in the passage (:func:`numbers_match`); the defaults were
chosen on a labelled set by ``python -m docent_eval.support_calibration`` (docs/evaluation.md
gives its precision and recall).

Usage::

    from docentlib.support import judge, split_sentences

    passages = ["Use kubectl rollout undo to roll back a Deployment to its previous revision."]
    for sentence in split_sentences(answer):
        verdict = judge(sentence, passages)  # lexical only
        verdict.supported, verdict.passage, verdict.lexical
    # With embeddings (one vector per sentence, one matrix per passage, rows = its sentences):
    verdict = judge(sentence, passages, sentence_vector=v, passage_vectors=[m])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"[a-z0-9][a-z0-9_.\-/]*[a-z0-9]|[a-z0-9]")
_STOPWORD_TEXT = """
    a an and are as at be been but by can do does for from has have how i if in into is it
    its may more most no not of on or other our should so such than that the their them then
    there these they this to use used using was we were what when where which while who will
    with would you your yes also any all each just only some very"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_LEADING_CITATIONS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by white space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "no.", "fig.")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*")  # standalone numbers: 128, 0.5, 1,000 (not k8s, v1)


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no stop words, no single characters).

    A word may contain ``. - / _`` inside it, so ``deployment/nginx``, ``apps/v1`` and
    ``kube-proxy`` stay one word each.
    """
    return {w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _STOPWORDS}


def strip_citations(text: str) -> str:
    """``text`` without ``[n]`` markers (and the space before them)."""
    return _CITATION.sub("", text)


def split_sentences(text: str) -> list[str]:
    """The claims of an answer: its sentences, list items and code blocks, in order.

    Markdown-aware enough for model output: a fenced code block is one unit, each list item
    is split on its own (without its bullet), headings are dropped, and citation markers that
    open a line or follow a sentence's full stop stay with the sentence before them.
    """
    units: list[str] = []
    paragraph: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            units.extend(_split_paragraph(" ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if code is not None:
            if _FENCE.match(line):
                units.append("\n".join(code).strip())
                code = None
            else:
                code.append(line)
            continue
        if _FENCE.match(line):
            flush()
            code = []
        elif not line.strip() or _HEADING.match(line):
            flush()
        elif _LIST_ITEM.match(line):
            flush()
            paragraph.append(_LIST_ITEM.sub("", line, count=1).strip())
        else:
            paragraph.append(line.strip())
    flush()
    if code:
        units.append("\n".join(code).strip())
    return _attach_citations([u for u in units if u])


def _split_paragraph(paragraph: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        head = paragraph[start : match.start()]
        if head.lower().endswith(_ABBREVIATIONS) or _ends_with_initial(head):
            continue
        parts.append(paragraph[start : match.end()].strip())
        start = match.end()
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]


def _ends_with_initial(head: str) -> bool:
    """``... J.`` (an initial) or ``... 1.`` (a number in a list) do not end a sentence."""
    last = head.rsplit(" ", 1)[-1]
    return len(last) == 2 and last[0].isalnum() and last[0].isupper()


def _attach_citations(units: list[str]) -> list[str]:
    """Move markers that open a unit (``[2] Next ...``) onto the unit before; drop empty ones."""
    out: list[str] = []
    for unit in units:
        lead = _LEADING_CITATIONS.match(unit)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group(0).strip()}"
            unit = unit[lead.end() :].strip()
        if any(c.isalnum() for c in strip_citations(unit)):
            out.append(unit)
    return out


def lexical_support(sentence: str, passage: str) -> float:
    """Share of ``sentence``'s content words that ``passage`` contains (0 when it has none)."""
    words = content_words(sentence)
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)


def numbers_match(sentence: str, passage: str) -> bool:
    """True when every standalone number of ``sentence`` also stands in ``passage``.

    Neither signal sees a changed number (a tag of "64" characters against the passage's
    "128" shares every other word and embeds alike), so a number the passage lacks vetoes
    support.
    """
    return set(_NUMBER.findall(sentence)) <= set(_NUMBER.findall(passage))


def semantic_support(sentence_vector: np.ndarray, passage_vectors: np.ndarray) -> float:
    """Best cosine between the sentence's embedding and any row (a passage sentence's)."""
    rows = np.atleast_2d(np.asarray(passage_vectors, dtype=np.float32))
    if rows.size == 0:
        return 0.0
    query = np.asarray(sentence_vector, dtype=np.float32).ravel()
    norms = np.linalg.norm(rows, axis=1) * (np.linalg.norm(query) or 1.0)
    cosines = rows @ query / np.where(norms == 0, 1.0, norms)
    return float(cosines.max())


@dataclass(frozen=True)
class SupportThresholds:
    """When a passage supports a sentence: either signal at or above its threshold.

    ``lexical_only`` applies when no embeddings are given (a cheaper, stricter check).
    Defaults from ``python -m docent_eval.support_calibration`` on ``tests/data/support``.
    """

    lexical: float = 0.65
    semantic: float = 0.76
    lexical_only: float = 0.45

    def __post_init__(self) -> None:
        for name in ("lexical", "semantic", "lexical_only"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} threshold must be in (0, 1], got {value!r}")


DEFAULT_THRESHOLDS = SupportThresholds()


@dataclass(frozen=True)
class SentenceSupport:
    """The verdict on one sentence: its best passage (0-based index; None without passages)."""

    passage: int | None
    lexical: float
    semantic: float | None
    supported: bool


def judge(
    sentence: str,
    passages: Sequence[str],
    *,
    sentence_vector: np.ndarray | None = None,
    passage_vectors: Sequence[np.ndarray] | None = None,
    thresholds: SupportThresholds = DEFAULT_THRESHOLDS,
) -> SentenceSupport:
    """How well the best of ``passages`` supports ``sentence`` (citation markers ignored).

    :param sentence_vector: the sentence's embedding; with ``passage_vectors`` (one matrix per
        passage, a row per passage sentence, as :func:`split_sentences` cuts it) semantic
        support is scored too.
    :returns: the passage with the highest support relative to the thresholds.
    :raises ValueError: ``passage_vectors`` given for a different number of passages.
    """
    semantic = sentence_vector is not None and passage_vectors is not None
    if semantic and len(passage_vectors) != len(passages):  # type: ignore[arg-type]
        raise ValueError(
            f"{len(passage_vectors)} passage vector sets for {len(passages)} passages"  # type: ignore[arg-type]
        )
    claim = strip_citations(sentence)
    best: tuple[float, SentenceSupport] | None = None
    for i, passage in enumerate(passages):
        lexical = lexical_support(claim, passage)
        if semantic:
            cosine = semantic_support(sentence_vector, passage_vectors[i])  # type: ignore[index,arg-type]
            margin = max(lexical / thresholds.lexical, cosine / thresholds.semantic)
        else:
            cosine, margin = None, lexical / thresholds.lexical_only
        if not numbers_match(claim, passage):
            margin = min(margin, 0.999)
        verdict = SentenceSupport(i, round(lexical, 4), _rounded(cosine), margin >= 1.0)
        if best is None or margin > best[0]:
            best = (margin, verdict)
    return best[1] if best else SentenceSupport(None, 0.0, 0.0 if semantic else None, False)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
