"""The agent's training trajectories: enough, well-formed, with errors, and disjoint from eval."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docent_training.agent_data import SPECS, trajectories
from docentlib.agent.protocol import (
    FinalAnswer,
    ToolCall,
    parse_action,
    render_action,
    system_prompt,
)
from services.gateway.agent.tools.calculator import evaluate
from services.gateway.agent.tools.registry import ToolRegistry

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "agent" / "questions.jsonl"
N = 2400  # what training-jobs/configs/sft-agent.yaml is generated with


@pytest.fixture(scope="module")
def records():
    return trajectories(N, seed=0)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_enough_varied_trajectories_with_errors(records):
    assert len(records) >= 2000
    questions = {r["messages"][1]["content"] for r in records}
    assert len(questions) > 800, "wording varies"
    errors = [
        r
        for r in records
        if any(m["content"].startswith("Observation: Error") for m in r["messages"])
    ]
    assert len(errors) / len(records) > 0.1
    assert len({r["scenario"] for r in records}) >= 6
    assert trajectories(50, seed=0) == records[:50], "reproducible by seed"


def test_every_step_is_a_valid_action_for_the_served_registry(records):
    registry = ToolRegistry([type("T", (), {"spec": s})() for s in SPECS])  # specs only
    system = system_prompt(SPECS)
    for record in records[:500]:
        messages = record["messages"]
        assert messages[0] == {"role": "system", "content": system}
        assistant = [m["content"] for m in messages if m["role"] == "assistant"]
        actions = [parse_action(text) for text in assistant]
        assert isinstance(actions[-1], FinalAnswer)
        for text, action in zip(assistant, actions, strict=True):
            assert render_action(action) == text, "the bytes the grammar makes the model write"
            if isinstance(action, ToolCall):
                registry.check(action.tool, action.arguments)
                if action.tool == "calculator" and not _next_is_error(messages, text):
                    evaluate(action.arguments["expression"])


def _next_is_error(messages, text) -> bool:
    i = next(i for i, m in enumerate(messages) if m["content"] == text)
    return messages[i + 1]["content"].startswith("Observation: Error")


def test_no_evaluation_question_or_entity_in_the_training_data(records):
    """Disjoint: no eval question (normalised) and no place, landmark or fact it asks about."""
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    text = "\n".join(_norm(m["content"]) for r in records for m in r["messages"][1:])
    questions = {_norm(r["messages"][1]["content"]) for r in records}
    for row in rows:
        assert _norm(row["question"]) not in questions, row["id"]
        for entity in row["entities"]:
            assert f" {_norm(entity)} " not in f" {text} ", (row["id"], entity)
