"""The questions file of ``docent eval answers``: one JSON object per line, checked up front.

Fields: ``_id`` and ``text`` (required); ``reference`` (a correct answer), ``must_contain``
(terms a correct answer contains), ``relevant`` (document ids) and ``expect_refusal`` (the
assistant should decline it) are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from docentlib.errors import InvalidInput

MAX_QUESTIONS = 5000


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    reference: str = ""
    must_contain: list[str] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    expect_refusal: bool = False


def _strings(row: dict, key: str, where: str) -> list[str]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{where}: {key!r} must be a list of non-empty strings")
    return value


def parse_question(row: object, where: str) -> Question:
    """One row, validated; ``where`` names it in errors (``file:line``)."""
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    qid, text = row.get("_id"), row.get("text")
    if not isinstance(qid, str) or not qid.strip():
        raise InvalidInput(f"{where}: '_id' must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where}: 'text' must be a non-empty string")
    reference = row.get("reference", "")
    if not isinstance(reference, str):
        raise InvalidInput(f"{where}: 'reference' must be a string")
    refusal = row.get("expect_refusal", False)
    if not isinstance(refusal, bool):
        raise InvalidInput(f"{where}: 'expect_refusal' must be true or false")
    return Question(
        qid,
        text.strip(),
        reference,
        _strings(row, "must_contain", where),
        _strings(row, "relevant", where),
        refusal,
    )


def load_questions(path: Path, limit: int = 0) -> list[Question]:
    """Every question of ``path`` (the first ``limit`` when given); InvalidInput names the line."""
    if not path.is_file():
        raise InvalidInput(f"questions file not found: {path}")
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: not JSON ({exc.msg})") from None
        question = parse_question(row, where)
        if question.id in seen:
            raise InvalidInput(f"{where}: duplicate _id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise InvalidInput(f"{path} holds no questions")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(f"{path} holds {len(questions)} questions; at most {MAX_QUESTIONS}")
    return questions[:limit] if limit else questions
