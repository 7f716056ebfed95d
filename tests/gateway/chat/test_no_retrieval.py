"""``retrieval: false``: the no-retrieval baseline of ``docent eval answers`` (admin scope)."""

from __future__ import annotations

from services.gateway.access.keys import open_key_store
from services.gateway.app import create_app
from services.gateway.chat.prompt import closed_book_prompt
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

QUESTION = "How do I roll back a Deployment to a previous revision?"


async def test_the_model_alone_answers_and_nothing_is_stored(fake_stack, script: Script) -> None:
    settings = fake_stack(domain="Kubernetes")
    body = {"message": QUESTION, "stream": False, "retrieval": False}
    async with serving(create_app(settings)) as client:
        reply = await client.post("/v1/chat", json=body)
        assert reply.status_code == 200, reply.text
        listed = (await client.get("/v1/conversations")).json()
    answer = reply.json()
    assert answer["sources"] == [] and answer["answer"] == "".join(script.answer)
    meta = answer["metadata"]
    assert meta["rerank"] == "skipped: retrieval off" and meta["candidates"] == 0
    assert {"embedding", "retrieval", "reranking"}.isdisjoint(script.chat_calls)
    assert "moderation" in script.chat_calls  # the input is still checked
    prompt = script.seen["generation"][-1].messages
    assert [(m.role, m.content) for m in prompt] == [
        ("system", closed_book_prompt("Kubernetes")),
        ("user", QUESTION),
    ]
    assert "source" not in prompt[0].content.lower()
    assert listed["conversations"] == []  # an evaluation request is not a conversation


async def test_needs_the_admin_scope_once_keys_exist(fake_stack) -> None:
    settings = fake_stack(auth="required")
    store = open_key_store(settings)
    _, chat_token = store.create("chatter", ["chat"])
    _, admin_token = store.create("root", ["admin"])
    store.close()
    body = {"message": QUESTION, "stream": False, "retrieval": False}
    async with serving(create_app(settings)) as client:
        denied = await client.post("/v1/chat", json=body, headers=_bearer(chat_token))
        allowed = await client.post("/v1/chat", json=body, headers=_bearer(admin_token))
        normal = await client.post(
            "/v1/chat", json={**body, "retrieval": True}, headers=_bearer(chat_token)
        )
    assert denied.status_code == 403
    assert "admin scope" in denied.json()["error"]["message"]
    assert allowed.status_code == 200 and normal.status_code == 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
