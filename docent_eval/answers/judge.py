"""An LLM judge behind any OpenAI-compatible endpoint: a 1-5 rubric score, and pairwise wins.

The pairwise question is asked twice with the answers swapped; a system wins only when both
orders agree, otherwise it is a tie. That cancels the position bias judges are known for.
"""

from __future__ import annotations

import re

import httpx

RUBRIC = (
    "You grade answers of a documentation assistant. Score the ANSWER to the QUESTION from 1 to 5 "
    "for correctness against the REFERENCE answer:\n"
    "5 = correct and complete; 4 = correct, minor omissions; 3 = partly correct; "
    "2 = mostly wrong or evasive; 1 = wrong, harmful or unrelated.\n"
    "A polite refusal of a question that should be refused scores 5.\n"
    "Reply with the score only, as one digit."
)
PAIRWISE = (
    "You compare two answers of documentation assistants to the same QUESTION, given a "
    "REFERENCE answer. Which answer is more correct and helpful? Reply with one letter: A or B."
)
_SCORE = re.compile(r"\b([1-5])\b")
_LETTER = re.compile(r"\b([AB])\b")


def parse_score(text: str) -> int | None:
    """The first digit 1-5 of the judge's reply, or None when there is none."""
    match = _SCORE.search(text)
    return int(match.group(1)) if match else None


def parse_choice(text: str) -> str | None:
    """``"A"`` or ``"B"`` from the judge's reply, or None."""
    match = _LETTER.search(text.strip().upper())
    return match.group(1) if match else None


def pairwise_outcome(first_order: str | None, swapped: str | None) -> float | None:
    """Docent's result from two verdicts: 1 win, 0 loss, 0.5 tie; None if neither parsed.

    ``first_order`` had Docent as A, ``swapped`` had Docent as B.
    """
    if first_order is None and swapped is None:
        return None
    docent_first = first_order == "A"
    docent_swapped = swapped == "B"
    if first_order is not None and swapped is not None and docent_first == docent_swapped:
        return 1.0 if docent_first else 0.0
    return 0.5


class Judge:
    """Usage: ``score = await Judge(client, model).score(question, reference, answer)``."""

    def __init__(self, client: httpx.AsyncClient, model: str, max_tokens: int = 8) -> None:
        self.client, self.model, self.max_tokens = client, model, max_tokens

    async def _ask(self, system: str, user: str) -> str:
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": False,
        }
        response = await self.client.post("/v1/chat/completions", json=body)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"] or "")

    async def score(self, question: str, reference: str, answer: str) -> int | None:
        user = f"QUESTION: {question}\nREFERENCE: {reference or '(none)'}\nANSWER: {answer}"
        return parse_score(await self._ask(RUBRIC, user))

    async def compare(self, question: str, reference: str, docent: str, other: str) -> float | None:
        """Docent's pairwise result against ``other`` (see :func:`pairwise_outcome`)."""

        def prompt(a: str, b: str) -> str:
            ref = reference or "(none)"
            return f"QUESTION: {question}\nREFERENCE: {ref}\nANSWER A: {a}\nANSWER B: {b}"

        first = parse_choice(await self._ask(PAIRWISE, prompt(docent, other)))
        swapped = parse_choice(await self._ask(PAIRWISE, prompt(other, docent)))
        return pairwise_outcome(first, swapped)
