"""The prompt: numbered sources the model must answer from, and how to read its citations.

Pure functions, so the wording can be tested (and tuned) without a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

Message = tuple[str, str]  # (role, content), as GenerationClient takes them

SYSTEM_PROMPT = (
    "You are Docent, an assistant that answers questions using only the numbered sources "
    "provided in the user's message.\n"
    "- Use only facts stated in the sources; do not use outside knowledge.\n"
    "- Cite the sources you use as [n] right after the statement they support, e.g. "
    '"Use kubectl rollout undo to go back to the previous revision [2]."\n'
    "- If the sources do not contain the answer, say that you don't know.\n"
    "- Be concise."
)

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_FOLLOW_UP_WORDS = 8


@dataclass(frozen=True)
class Passage:
    """What the model sees of one source."""

    title: str
    text: str
    heading_path: Sequence[str] = field(default_factory=tuple)


def format_passage(n: int, passage: Passage) -> str:
    """``[n] Title — Heading > Sub`` followed by the passage text."""
    heading = " > ".join(h for h in passage.heading_path if h)
    label = passage.title or "Untitled"
    if heading and heading != label:
        label = f"{label} — {heading}"
    return f"[{n}] {label}\n{passage.text.strip()}"


def build_messages(
    question: str, passages: Sequence[Passage], history: Sequence[Message] = ()
) -> list[Message]:
    """System prompt, then previous turns, then the numbered sources and the question.

    Citation markers are stripped from previous answers: their numbers referred to other sources.
    """
    messages: list[Message] = [("system", SYSTEM_PROMPT)]
    for role, content in history:
        messages.append((role, strip_citations(content) if role == "assistant" else content))
    if passages:
        listed = "\n\n".join(format_passage(i, p) for i, p in enumerate(passages, start=1))
        user = f"Sources:\n\n{listed}\n\nQuestion: {question}"
    else:
        user = f"Sources: (none)\n\nQuestion: {question}"
    messages.append(("user", user))
    return messages


def extract_citations(answer: str, n_sources: int) -> list[int]:
    """Source numbers cited as ``[n]`` (or ``[n, m]``): valid, de-duplicated, first-seen order."""
    seen: list[int] = []
    for match in _CITATION.finditer(answer):
        for part in match.group(1).split(","):
            n = int(part)
            if 1 <= n <= n_sources and n not in seen:
                seen.append(n)
    return seen


def strip_citations(text: str) -> str:
    """``text`` without ``[n]`` markers (and the space before them)."""
    return re.sub(r"\s?" + _CITATION.pattern, "", text)


def retrieval_query(question: str, history: Sequence[Message] = ()) -> str:
    """A standalone query for retrieval.

    A short follow-up ("and how do I undo it?") means little alone, so the previous user
    question is prepended; a longer message is taken to stand on its own.
    """
    if len(question.split()) >= _FOLLOW_UP_WORDS:
        return question
    previous = next((c for r, c in reversed(history) if r == "user"), None)
    return f"{previous}\n{question}" if previous else question
