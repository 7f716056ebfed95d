"""Conversation routes and how chat uses the history (in-process gateway, scripted services)."""

from __future__ import annotations

from services.gateway.app import create_app
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script


async def test_create_read_list_delete(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        created = await client.post("/v1/conversations", json={"title": "Rollouts"})
        assert created.status_code == 201
        conv = created.json()
        assert conv["id"].startswith("conv_") and conv["turns"] == 0 and conv["title"] == "Rollouts"
        assert conv["expires_at"] > conv["created_at"]
        untitled = await client.post("/v1/conversations")  # the body is optional
        assert untitled.status_code == 201
        body = {"message": "How do I roll back?", "conversation_id": conv["id"], "stream": False}
        answer = (await client.post("/v1/chat", json=body)).json()
        assert answer["conversation_id"] == conv["id"]
        read = (await client.get(f"/v1/conversations/{conv['id']}")).json()
        assert [m["role"] for m in read["messages"]] == ["user", "assistant"]
        assert read["messages"][0]["content"] == "How do I roll back?"
        assert read["messages"][1]["content"] == answer["answer"]
        listed = (await client.get("/v1/conversations")).json()["conversations"]
        assert [c["id"] for c in listed] == [conv["id"], untitled.json()["id"]]
        assert listed[0]["turns"] == 2
        assert (await client.delete(f"/v1/conversations/{conv['id']}")).status_code == 204
        gone = await client.get(f"/v1/conversations/{conv['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        again = await client.delete(f"/v1/conversations/{conv['id']}")
        assert again.status_code == 404


async def test_bad_ids_and_bodies_are_4xx_json(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        bad = await client.get("/v1/conversations/not-an-id")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "conversation_id"
        extra = await client.post("/v1/conversations", json={"title": "x", "owner": "me"})
        assert extra.status_code == 422
        limit = await client.get("/v1/conversations", params={"limit": 0})
        assert limit.status_code == 422 and limit.json()["error"]["field"] == "limit"


async def test_a_follow_up_is_searched_with_the_question_it_refers_to(
    fake_stack, script: Script
) -> None:
    """The fake index's passages say "Passage number 3": the follow-up's word "number" occurs
    under every earlier question, so the most recent one wins; a standalone question is left
    alone. (Choosing among earlier questions on real pages is shown end to end.)"""
    async with serving(create_app(fake_stack())) as client:
        conv = (await client.post("/v1/conversations")).json()["id"]
        for message in ("How do I update a Deployment image?", "What is a Pod in Kubernetes?"):
            body = {"message": message, "conversation_id": conv, "stream": False}
            reply = await client.post("/v1/chat", json=body)
            assert reply.json()["metadata"]["retrieval_query"] == message
        body = {"message": "and which number is that?", "conversation_id": conv, "stream": False}
        reply = (await client.post("/v1/chat", json=body)).json()
    query = reply["metadata"]["retrieval_query"]
    assert query == "What is a Pod in Kubernetes?\nand which number is that?"
    sparse = [r for r in script.seen["retrieval"] if r.query.endswith("which number is that?")]
    assert len(sparse) >= 2  # each earlier question was tried
    assert "rewrite" in reply["timings"]
