"""Answers in the served format: a few sentences of the passage, each cited ``[n]``.

Extractive on purpose: every sentence of a grounded answer is a sentence of the passage the
prompt shows (after the gateway's own sentence selection), so the target is supported by
construction and its citation is right by construction. The "don't know" answer and the
out-of-scope refusal use the wording the gateway itself answers with.
"""

from __future__ import annotations

import re

from docent_training.domain_data.questions import Derived
from docent_training.domain_data.sections import clean
from docentlib.support import content_words, split_sentences

MAX_WORDS = 90
_END = re.compile(r"([.!?:;])$")
_COMMAND = re.compile(r"^(kubectl|sudo|curl|echo|docker|helm|kubeadm|export|cat|apt|yum|cd)\s")
_MARKUP = ("&lt;", "&gt;", " \\ ", "{{", ":--", "⋅")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_FENCED = re.compile(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", re.MULTILINE | re.DOTALL)


def usable(unit: str) -> bool:
    """Prose a user can read in an answer: no code, tables, markup or fragments."""
    text = unit.strip()
    if not 25 <= len(text) <= 400 or "\n" in text or text.endswith(":"):
        return False
    if text.startswith(("```", "|", "{{", "#", "!", "$", "**")) or text.count("`") > 6:
        return False
    if _TAG.search(text) or _COMMAND.match(text) or any(m in text for m in _MARKUP):
        return False
    return sum(c.isalpha() for c in text) > 0.6 * len(text)


def cite(unit: str, n: int) -> str:
    """``unit`` with ``[n]`` before its closing punctuation: "... revision [2]." """
    text = clean(unit)
    if _END.search(text):
        return f"{text[:-1].rstrip()} [{n}]{text[-1] if text[-1] in '.!?' else '.'}"
    return f"{text} [{n}]."


def prose_units(section_text: str, shown: str) -> list[str]:
    """Sentences of the section that are prose (not code) and that the prompt shows."""
    prose = set(split_sentences(_FENCED.sub("\n\n", section_text)))
    return [
        u
        for u in split_sentences(section_text)
        if u in prose and u in shown and usable(u) and not u.upper().startswith("FEATURE STATE")
    ]


def pick_units(units: list[str], derived: Derived, limit: int = 3) -> list[str]:
    """Up to ``limit`` of the shown prose ``units`` that answer ``derived``, in order.

    A definition is answered from its own sentence on; otherwise the passage's opening and
    the sentences sharing most words with the question.
    """
    if not units:
        return []
    if derived.anchor:
        starts = [i for i, u in enumerate(units) if clean(derived.anchor)[:40] in clean(u)]
        return units[starts[0] : starts[0] + 2] if starts else []
    if derived.source == "procedure":
        return units[: limit + 1]
    asked = content_words(derived.question)
    ranked = sorted(range(1, len(units)), key=lambda i: -len(content_words(units[i]) & asked))
    chosen = sorted({0, *ranked[: limit - 1]})
    return [units[i] for i in chosen]


def grounded_answer(units: list[str], n: int) -> str:
    """The cited sentences, stopping before ``MAX_WORDS`` (the first always stays)."""
    out: list[str] = []
    words = 0
    for unit in units:
        cited = cite(unit, n)
        words += len(cited.split())
        if out and words > MAX_WORDS:
            break
        out.append(cited)
    return " ".join(out)


def dont_know(subject: str) -> str:
    """The answer when the sources do not contain it (the system prompt asks for this)."""
    return f"I don't know: the sources provided don't cover {subject}."
