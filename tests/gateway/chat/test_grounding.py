"""The groundedness guard: units, repetition, support, citations and the extractive fallback.

Over the real gateway and gRPC with scripted services whose embeddings are hashed bags of words
(cosine = word overlap); the real model and embeddings meet the guard in
tests/e2e/test_readme_answers.py.
"""

from __future__ import annotations

import pytest

from services.gateway.app import create_app
from services.gateway.chat.grounding import (
    CodeFence,
    RepetitionWatch,
    complete_units,
    known_markers,
)
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

PASSAGES = [
    "Use kubectl rollout undo to roll a Deployment back to its previous revision. "
    "The rollout history lists every revision.",
    "A Service exposes a set of Pods as one network endpoint. Its selector picks the Pods.",
]
SUPPORTED = "Run kubectl rollout undo to roll the Deployment back to the previous revision. "
UNSUPPORTED = "Bananas are rich in potassium and grow in tropical climates. "


def test_units_end_at_sentence_ends_and_line_breaks():
    units, rest = complete_units("First one. [1] Second one!\n- item\nthird without end")
    assert units == ["First one. [1] ", "Second one!\n", "- item\n"]
    assert rest == "third without end"
    assert complete_units("no end yet") == ([], "no end yet")


def test_repetition_and_loops_are_spotted():
    watch = RepetitionWatch()
    assert watch.check("The server sends the request to the gateway.") is None
    assert watch.check("The server sends the request to the gateway [2].") == "repetition"
    loop = RepetitionWatch()
    words = "pods run on nodes and " * 4
    assert loop.check(words) == "loop"


def test_citations_of_passages_that_were_not_given_are_removed():
    assert known_markers("[4] How does it work?", 3) == "How does it work?"
    assert known_markers("Undo it [1][4] now [2, 7].", 3) == "Undo it [1] now [2]."
    assert known_markers("Undo it [5] now.", 3) == "Undo it now."
    assert known_markers("Fine [3].", 3) == "Fine [3]."
    assert known_markers("```python\nx[4] = 1\n```\n", 1) == "```python\nx[4] = 1\n```\n"


async def test_a_made_up_citation_is_replaced_by_the_supporting_passage(fake_stack, script):
    _script(script, ["[4] " + SUPPORTED])
    body = await _chat(fake_stack)
    assert "[4]" not in body["answer"] and "previous revision [1]." in body["answer"]
    assert body["metadata"]["groundedness"]["cited_by_guard"] == 1


def test_a_code_block_never_closed_is_not_held_to_the_end():
    fence = CodeFence(max_lines=3)
    assert fence.whole_blocks(["```bash\n", "kubectl get pods\n"]) == []
    assert fence.whole_blocks(["kubectl get nodes\n", "Then check. "]) == [
        "```bash\nkubectl get pods\nkubectl get nodes\n",
        "Then check. ",
    ]
    assert fence.whole_blocks(["```\n", "Prose again. "]) == ["```\n", "Prose again. "]
    assert fence.rest() == ""


def _script(script: Script, answer: list[str]) -> Script:
    script.word_vectors, script.passages, script.answer = True, list(PASSAGES), answer
    return script


async def _chat(fake_stack, mode: str = "drop") -> dict:
    async with serving(create_app(fake_stack(grounding=mode))) as client:
        reply = await client.post(
            "/v1/chat", json={"message": "How do I roll back?", "stream": False}
        )
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_unsupported_sentences_are_dropped_and_supported_ones_cited(fake_stack, script):
    _script(script, [SUPPORTED[:30], SUPPORTED[30:], UNSUPPORTED, "The rollout history "])
    body = await _chat(fake_stack)
    guard = body["metadata"]["groundedness"]
    assert "Bananas" not in body["answer"] and "kubectl rollout undo" in body["answer"]
    assert "previous revision [1]." in body["answer"]  # cited before its full stop
    assert guard["dropped"] == 1 and guard["unsupported"] == [UNSUPPORTED.strip()]
    assert guard["supported"] >= 1 and guard["cited_by_guard"] >= 1 and not guard["fallback"]
    assert body["metadata"]["citation_mode"] == "attributed" and 1 in body["citations"]


async def test_a_repeated_sentence_ends_generation(fake_stack, script):
    _script(script, [SUPPORTED, SUPPORTED, SUPPORTED, SUPPORTED])
    body = await _chat(fake_stack)
    guard = body["metadata"]["groundedness"]
    assert guard["stopped"] == "repetition"
    assert body["answer"].count("kubectl rollout undo") == 1


async def test_nothing_supported_falls_back_to_the_passages_cited(fake_stack, script):
    _script(script, [UNSUPPORTED, "Mangoes are sweet. "])
    body = await _chat(fake_stack)
    guard = body["metadata"]["groundedness"]
    assert guard["fallback"] and guard["supported"] == 0 and guard["dropped"] == 2
    assert body["answer"].startswith("From the sources: ")
    assert "[1]" in body["answer"] and body["metadata"]["citation_mode"] == "extractive"


async def test_a_code_block_is_judged_whole_not_let_through_as_headings(fake_stack, script):
    """``# comment`` lines inside a fenced block are code, not markdown headings."""
    block = ["```bash\n", "# Bananas grow in tropical climates:\n", "make bananas\n", "```\n"]
    _script(script, [*block, SUPPORTED])
    body = await _chat(fake_stack)
    guard = body["metadata"]["groundedness"]
    assert "Bananas" not in body["answer"] and "```" not in body["answer"], body["answer"]
    assert guard["dropped"] == 1 and "kubectl rollout undo" in body["answer"]
    _script(script, ["```bash\n", "kubectl rollout undo deployment/web\n", "```\n"])
    body = await _chat(fake_stack)
    assert "```bash\nkubectl rollout undo deployment/web\n```\n[1]" in body["answer"], body


async def test_mark_mode_keeps_unsupported_sentences_and_lists_them(fake_stack, script):
    _script(script, [SUPPORTED, UNSUPPORTED])
    body = await _chat(fake_stack, "mark")
    guard = body["metadata"]["groundedness"]
    assert "Bananas" in body["answer"] and guard["dropped"] == 0
    assert guard["unsupported"] == [UNSUPPORTED.strip()]


@pytest.mark.parametrize("mode", ["off"])
async def test_off_streams_as_generated(fake_stack, script, mode):
    _script(script, [UNSUPPORTED])
    body = await _chat(fake_stack, mode)
    assert (
        body["answer"].startswith(UNSUPPORTED.strip()) and body["metadata"]["groundedness"] is None
    )


async def test_list_markers_go_with_their_items(fake_stack, script):
    """A list marker is released with the item after it: a dropped item takes its number
    along, and numbers with no released item after them never show (as in "1. 2." before
    a fallback, seen with the real model)."""
    _script(script, ["1. ", SUPPORTED.strip() + "\n", "2. ", UNSUPPORTED.strip() + "\n", "3. "])
    body = await _chat(fake_stack)
    assert body["answer"].startswith("1. Run kubectl rollout undo")
    assert "2." not in body["answer"] and "3." not in body["answer"]
    _script(script, ["\n1. 2. \n\n", UNSUPPORTED])
    body = await _chat(fake_stack)
    assert body["metadata"]["groundedness"]["fallback"]
    assert body["answer"].startswith("From the sources: "), body["answer"]
