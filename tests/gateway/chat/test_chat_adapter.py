"""Which model answers: the gateway's ``adapter`` setting, or a request's ``adapter`` (admin)."""

from __future__ import annotations

from services.gateway.access.keys import open_key_store
from services.gateway.app import create_app
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

QUESTION = "How do I roll back a Deployment to a previous revision?"


async def test_the_setting_names_the_adapter_and_a_request_can_override_it(
    fake_stack, script: Script
) -> None:
    settings = fake_stack(adapter="k8s-sft")
    body = {"message": QUESTION, "stream": False}
    async with serving(create_app(settings)) as client:
        default = await client.post("/v1/chat", json=body)
        assert default.status_code == 200, default.text
        served = script.seen["generation"][-1].adapter
        base = await client.post("/v1/chat", json={**body, "adapter": ""})
        assert base.status_code == 200, base.text
        overridden = script.seen["generation"][-1].adapter
    assert served == "k8s-sft" and overridden == ""


async def test_choosing_the_adapter_needs_the_admin_scope(fake_stack) -> None:
    settings = fake_stack(auth="required")
    store = open_key_store(settings)
    _, chat_token = store.create("chatter", ["chat"])
    _, admin_token = store.create("root", ["admin"])
    store.close()
    body = {"message": QUESTION, "stream": False, "adapter": "k8s-sft"}
    async with serving(create_app(settings)) as client:
        denied = await client.post("/v1/chat", json=body, headers=_bearer(chat_token))
        allowed = await client.post("/v1/chat", json=body, headers=_bearer(admin_token))
        too_long = await client.post(
            "/v1/chat", json={**body, "adapter": "x" * 200}, headers=_bearer(admin_token)
        )
    assert denied.status_code == 403 and "admin scope" in denied.json()["error"]["message"]
    assert allowed.status_code == 200 and too_long.status_code == 422


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
