"""Scoring of the agent evaluation, and the question set itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docent_eval.agent_eval import Question, in_order, is_correct, load_questions, numbers_in
from docentlib.errors import InvalidInput

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "agent" / "questions.jsonl"
WORLD = Path(__file__).resolve().parents[1] / "data" / "agent" / "world.json"


def q(expected: str, entities: tuple[str, ...] = (), tolerance: float | None = None) -> Question:
    return Question("x", "?", expected, entities=entities, tolerance=tolerance)


@pytest.mark.parametrize(
    ("answer", "question", "right"),
    [
        ("It is 14.3 °C in Paris.\n\nTools used: wikipedia, weather.", q("14.3"), True),
        ("It is 14 °C in Paris.", q("14.3"), False),
        ("It is -3.4 °C in Ottawa.", q("-3.4"), True),
        ("It is 3.4 °C in Ottawa.", q("-3.4"), False),
        ("About 22,839.04 feet.", q("22839", tolerance=1.0), True),
        ("111 years.", q("111"), True),
        ("1111 years.", q("111"), False),
        ("Steps: 2\n\nTools used: calculator, weather.", q("2"), True),
        ("Nothing.\n\nTools used: calculator, weather.", q("2"), False),
        ("Cairo is warmer: Paris 14.3, Cairo 27.1.", q("Cairo", ("Paris", "Cairo")), True),
        ("Paris is 14.3 °C and Cairo 27.1 °C.", q("Cairo", ("Paris", "Cairo")), False),
        ("The Eiffel Tower came first.", q("Eiffel", ("Eiffel Tower", "Empire State")), True),
    ],
)
def test_is_correct(answer, question, right):
    assert is_correct(answer, question) is right


def test_numbers_in():
    assert numbers_in("from -3.4 to 22,839.04 and .5") == [-3.4, 22839.04, 0.5]


def test_tool_order_allows_retries_between():
    assert in_order(["wikipedia", "weather", "weather"], ["wikipedia", "weather"])
    assert not in_order(["weather", "wikipedia"], ["wikipedia", "weather"])


def test_bad_question_files(tmp_path):
    with pytest.raises(InvalidInput, match="not found"):
        load_questions(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "?"}\n')
    with pytest.raises(InvalidInput, match=r"bad\.jsonl:1: missing expected"):
        load_questions(bad)


def test_the_question_set_is_multi_hop_and_answerable():
    """30+ questions, each needing two tool calls or more, every fact in the local world."""
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 30
    assert len({x.id for x in questions}) == len(questions)
    assert all(len(x.tools) >= 2 for x in questions)
    world = json.loads(WORLD.read_text())
    for x in questions:
        for entity in x.entities:
            if x.kind in ("capital_weather", "fact_calc") or "weather" in x.tools:
                known = set(world["wikipedia"]) | set(world["places"])
                assert any(entity in k or k in entity for k in known), (x.id, entity)
