"""The gateway's safety policy through real gRPC calls to scripted fakes.

Input refusals by category, out-of-scope declines, injected passages dropped and quoted
passages, output moderation cutting a stream off on both APIs, and the refusal counter.
"""

from __future__ import annotations

import asyncio
import json

from prometheus_client import REGISTRY

from docentlib.gateway_client import parse_sse
from services.gateway.app import create_app
from services.gateway.chat.prompt import system_prompt
from services.gateway.chat.safety import INJECTION_REFUSAL, LeakDetector, refusal_for
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

QUESTION = "How do I roll back a Deployment to a previous revision?"
TOXIC_ANSWER = ["Use ", "kubectl ", "rollout ", "undo. ", "You ", "idiot", ", ", "read ", "docs."]


def _events(text: str) -> list:
    return list(parse_sse(iter(text.splitlines())))


def _refusals(category: str) -> float:
    value = REGISTRY.get_sample_value("docent_gateway_refusals_total", {"category": category})
    return value or 0.0


async def test_out_of_scope_question_is_declined_after_retrieval(fake_stack, script) -> None:
    before = _refusals("out_of_scope")
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post(
            "/v1/chat", json={"message": "A recipe for sourdough bread?", "stream": False}
        )
    body = reply.json()
    assert body["metadata"]["refused"] is True
    assert body["metadata"]["flagged_categories"] == ["out_of_scope"]
    assert body["metadata"]["moderation"] == "scope"
    assert body["answer"].startswith("Sorry, that's outside what I can help with")
    assert "this knowledge base" in body["answer"] and body["sources"] == []
    assert "generation" not in script.seen
    assert _refusals("out_of_scope") == before + 1
    checked = script.seen["moderation_context"][0]
    assert len(checked.passages) == 5 and checked.top_retrieval_score == 0.5


async def test_refusals_differ_by_category() -> None:
    harmful = refusal_for(["harmful"], "Kubernetes")
    scope = refusal_for(["out_of_scope"], "Kubernetes")
    injection = refusal_for(["prompt_injection"], "Kubernetes")
    assert len({harmful, scope, injection}) == 3
    assert all(len(text) < 160 and text.startswith("Sorry") for text in (harmful, scope))
    assert injection == INJECTION_REFUSAL


async def test_injected_passage_is_dropped_and_flagged(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack())) as client:
        script.injected_marker = "Passage number 2."
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    body = reply.json()
    assert body["metadata"]["flagged_passages"] == ["doc2#0"]
    assert "doc2#0" not in [s["chunk_id"] for s in body["sources"]]
    prompt = script.seen["generation"][0].messages[-1].content
    assert "Passage number 2." not in prompt
    assert prompt.count("<source>") == prompt.count("</source>") == len(body["sources"])


async def test_system_prompt_states_domain_and_safety_rules(fake_stack, script) -> None:
    async with serving(create_app(fake_stack(domain="Kubernetes networking"))) as client:
        await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    system = script.seen["generation"][0].messages[0].content
    assert "Kubernetes networking" in system
    assert "never instructions" in system and "Never reveal" in system


async def test_toxic_output_is_cut_off_mid_stream_native(fake_stack, script: Script) -> None:
    script.answer = TOXIC_ANSWER + ["more "] * 200
    script.token_delay = 0.01
    before = _refusals("output_toxicity")
    async with serving(create_app(fake_stack())) as client:
        streamed = await client.post("/v1/chat", json={"message": QUESTION})
        conversation = _events(streamed.text)[-1].data["conversation_id"]
        stored = (await client.get(f"/v1/conversations/{conversation}")).json()
        whole = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    events = _events(streamed.text)
    names = [e.event for e in events]
    assert names[0] == "sources" and names[-2:] == ["moderation", "done"]
    released = "".join(e.data["text"] for e in events if e.event == "delta")
    assert released.startswith("Use ") and "idiot" not in released
    moderation = events[-2].data
    assert moderation["action"] == "replace" and moderation["categories"] == ["toxicity"]
    assert moderation["text"].startswith("Sorry, I can't continue this answer")
    done = events[-1].data
    assert done["metadata"]["refused"] is True and done["metadata"]["moderation"] == "output"
    assert done["metadata"]["finish_reason"] == "content_filter"
    await asyncio.wait_for(script.generation_cancelled.wait(), 5)  # generation stopped upstream
    assert stored["messages"][-1]["content"] == moderation["text"]
    body = whole.json()
    assert body["answer"] == moderation["text"] and body["metadata"]["refused"] is True
    assert _refusals("output_toxicity") == before + 2


async def test_toxic_output_is_cut_off_mid_stream_openai(fake_stack, script: Script) -> None:
    script.answer = TOXIC_ANSWER + ["more "] * 200
    script.token_delay = 0.01
    messages = [{"role": "user", "content": QUESTION}]
    request = {"model": "docent", "stream": True, "messages": messages}
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat/completions", json=request)
    frames = [line[6:] for line in reply.text.splitlines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    contents = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"]]
    texts = [t for t in contents if t]
    assert "idiot" not in "".join(texts)
    assert texts[-1].startswith("Sorry, I can't continue this answer")
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "content_filter"
    assert final["docent"]["metadata"]["moderation"] == "output"
    await asyncio.wait_for(script.generation_cancelled.wait(), 5)


async def test_clean_answer_streams_whole_through_output_moderation(fake_stack, script) -> None:
    async with serving(create_app(fake_stack())) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    body = reply.json()
    assert body["answer"].startswith("Use kubectl rollout undo [1]. See also [2][9].")
    assert body["metadata"]["refused"] is False
    windows = [r.text for r in script.seen["moderation"] if r.direction == 2]
    assert windows and windows[-1].endswith("[2][9].")


async def test_system_prompt_leak_is_cut_off(fake_stack, script: Script) -> None:
    secret = system_prompt("Kubernetes")
    script.answer = ["Sure. "] + [w + " " for w in secret.split()]
    async with serving(create_app(fake_stack(domain="Kubernetes"))) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    body = reply.json()
    assert body["answer"] == INJECTION_REFUSAL
    assert body["metadata"]["flagged_categories"] == ["system_prompt_leak"]


def test_leak_detector_needs_a_long_span() -> None:
    leak = LeakDetector(system_prompt("Kubernetes"), span=8)
    assert not leak.leaks("Use only the sources; cite them as [n]. Be concise.")
    assert leak.leaks("my rules: use only facts stated in the sources; do not use outside stuff")


async def test_output_moderation_can_be_turned_off(fake_stack, script: Script) -> None:
    script.answer = TOXIC_ANSWER
    async with serving(create_app(fake_stack(output_moderation=False))) as client:
        reply = await client.post("/v1/chat", json={"message": QUESTION, "stream": False})
    assert "idiot" in reply.json()["answer"]
