"""Prompt wording, numbering, history placement and citation extraction."""

from __future__ import annotations

import pytest

from services.gateway.chat.prompt import (
    SYSTEM_PROMPT,
    Passage,
    build_messages,
    extract_citations,
    retrieval_query,
    strip_citations,
)
from services.gateway.chat.sources import snippet

PASSAGES = [
    Passage("Deployments", "kubectl rollout undo goes back.", ["Deployments", "Rolling Back"]),
    Passage("Pods", "A Pod is the smallest unit.", []),
    Passage("", "Untitled text.", ["Only a heading"]),
]


def test_system_prompt_states_the_rules() -> None:
    text = SYSTEM_PROMPT.lower()
    for phrase in ("only", "[n]", "don't know", "concise"):
        assert phrase in text


def test_sources_are_numbered_with_title_and_heading_then_the_question() -> None:
    messages = build_messages("How do I roll back?", PASSAGES)
    assert [role for role, _ in messages] == ["system", "user"]
    user = messages[-1][1]
    assert "[1] Deployments — Deployments > Rolling Back\nkubectl rollout undo" in user
    assert "[2] Pods\nA Pod is the smallest unit." in user
    assert "[3] Untitled — Only a heading" in user
    assert user.index("[1]") < user.index("[2]") < user.index("[3]")
    assert user.rstrip().endswith("Question: How do I roll back?")


def test_history_goes_between_system_and_the_final_question() -> None:
    history = [("user", "What is a Pod?"), ("assistant", "The smallest unit [2].")]
    messages = build_messages("And a Deployment?", PASSAGES, history)
    assert [role for role, _ in messages] == ["system", "user", "assistant", "user"]
    assert messages[1] == ("user", "What is a Pod?")
    assert messages[2] == ("assistant", "The smallest unit.")  # old citation numbers dropped
    assert "[1] Deployments" in messages[3][1] and "And a Deployment?" in messages[3][1]


def test_no_passages_still_asks_the_question() -> None:
    messages = build_messages("Anything?", [])
    assert "(none)" in messages[-1][1] and "Anything?" in messages[-1][1]


@pytest.mark.parametrize(
    ("answer", "n", "expected"),
    [
        ("Roll back [2]. Pods [1]. Again [2].", 3, [2, 1]),
        ("See [1, 3] and [2][3].", 3, [1, 3, 2]),
        ("Out of range [0] [4] [12].", 3, []),
        ("No citations at all.", 3, []),
        ("Footnote-ish [a] and [ 1 ] and [1].", 1, [1]),
        ("Anything [1].", 0, []),
    ],
)
def test_extract_citations(answer: str, n: int, expected: list[int]) -> None:
    assert extract_citations(answer, n) == expected


def test_strip_citations() -> None:
    assert strip_citations("Pods run containers [1]. Yes [2, 3].") == "Pods run containers. Yes."


def test_follow_ups_borrow_the_previous_question_for_retrieval() -> None:
    history = [("user", "How do I roll back a Deployment?"), ("assistant", "Use undo [1].")]
    assert retrieval_query("and a StatefulSet?", history) == (
        "How do I roll back a Deployment?\nand a StatefulSet?"
    )
    long = "What is the difference between a ReplicaSet and a Deployment controller?"
    assert retrieval_query(long, history) == long
    assert retrieval_query("why?", []) == "why?"


def test_snippet_is_one_line_and_bounded() -> None:
    text = "word " * 200 + "\n\nmore"
    cut = snippet(text, 50)
    assert len(cut) <= 50 and cut.endswith("…") and "\n" not in cut
    assert snippet("short\ntext", 50) == "short text"


def test_passages_are_cut_to_their_sentences_about_the_question():
    from services.gateway.chat.prompt import relevant_sentences

    text = (
        "Deployments manage ReplicaSets. Cats sleep a lot. "
        "Use kubectl rollout undo to roll back a Deployment. Dogs bark. "
        "The rollout history lists revisions."
    )
    cut = relevant_sentences(text, "How do I roll back a rollout?", 3)
    assert cut.splitlines() == [
        "Deployments manage ReplicaSets.",
        "Use kubectl rollout undo to roll back a Deployment.",
        "The rollout history lists revisions.",
    ]
    assert relevant_sentences(text, "anything", 0) == text
    assert relevant_sentences("One. Two.", "q", 6) == "One. Two."
