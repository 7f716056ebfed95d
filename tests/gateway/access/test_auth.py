"""API keys and per-key rate limits on the HTTP layer (in-process gateway, scripted services)."""

from __future__ import annotations

from services.gateway.access.keys import open_key_store
from services.gateway.app import create_app
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"]["code"] == code, body
    return body["error"]


async def test_keys_are_optional_until_the_first_one_exists(fake_stack, monkeypatch) -> None:
    monkeypatch.setattr("services.gateway.access.auth.ANY_KEY_TTL_S", 0.0)
    settings = fake_stack()
    async with serving(create_app(settings)) as client:
        assert (await client.get("/v1/conversations")).status_code == 200  # no key needed
        store = open_key_store(settings)
        _, token = store.create("alice", ["chat"])
        store.close()
        error = _error(await client.get("/v1/conversations"), 401, "unauthorized")
        assert "API key is required" in error["message"]
        reply = await client.get("/v1/conversations", headers=_bearer(token))
        assert reply.status_code == 200
        reply = await client.get("/v1/conversations", headers={"x-api-key": token})
        assert reply.status_code == 200
        bad = await client.get("/v1/conversations", headers=_bearer(token + "x"))
        _error(bad, 401, "unauthorized")
        assert bad.headers["www-authenticate"] == "Bearer"


async def test_placeholder_key_works_only_while_no_key_is_needed(fake_stack, monkeypatch) -> None:
    """OpenAI clients need some api_key; "EMPTY" (vLLM's docs) works on a keyless gateway."""
    monkeypatch.setattr("services.gateway.access.auth.ANY_KEY_TTL_S", 0.0)
    settings = fake_stack()
    async with serving(create_app(settings)) as client:
        for headers in (_bearer("EMPTY"), {"x-api-key": "sk-anything"}):
            assert (await client.get("/v1/conversations", headers=headers)).status_code == 200
        # Shaped like a Docent key: checked even now (a typo in a real key is not ignored).
        _error(
            await client.get("/v1/conversations", headers=_bearer("dk_0_x")), 401, "unauthorized"
        )
        store = open_key_store(settings)
        store.create("alice", ["chat"])
        store.close()
        reply = await client.get("/v1/conversations", headers=_bearer("EMPTY"))
        assert "invalid or revoked" in _error(reply, 401, "unauthorized")["message"]


async def test_required_mode_scopes_and_revocation(fake_stack) -> None:
    settings = fake_stack(auth="required")
    store = open_key_store(settings)
    _, chat_token = store.create("chatter", ["chat"])
    ingest_key, ingest_token = store.create("loader", ["ingest"])
    _, admin_token = store.create("root", ["admin"])
    async with serving(create_app(settings)) as client:
        _error(await client.get("/v1/conversations"), 401, "unauthorized")
        assert (await client.get("/v1/conversations", headers=_bearer(chat_token))).is_success
        forbidden = await client.get("/v1/conversations", headers=_bearer(ingest_token))
        assert "'chat' scope" in _error(forbidden, 403, "forbidden")["message"]
        upload = {"file": ("notes.exe", b"MZ...", "application/octet-stream")}
        reply = await client.post("/v1/documents", files=upload, headers=_bearer(chat_token))
        _error(reply, 403, "forbidden")
        for token in (ingest_token, admin_token):  # admin may do everything
            # Let through to the upload itself, which needs the ingestion service (not
            # started here): 503 naming it, not 401 or 403.
            reply = await client.post("/v1/documents", files=upload, headers=_bearer(token))
            assert _error(reply, 503, "dependency_unavailable")["dependency"] == "ingestion"
        assert (await client.get("/v1/conversations", headers=_bearer(admin_token))).is_success
        store.revoke(ingest_key.id)
        reply = await client.post("/v1/documents", files=upload, headers=_bearer(ingest_token))
        _error(reply, 401, "unauthorized")
    store.close()


async def test_requests_per_minute_gives_429_with_headers(fake_stack) -> None:
    settings = fake_stack()
    store = open_key_store(settings)
    _, token = store.create("slow", ["chat"], rpm=3)
    store.close()
    async with serving(create_app(settings)) as client:
        replies = [await client.get("/v1/conversations", headers=_bearer(token)) for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[0].headers["x-ratelimit-limit-requests"] == "3"
    assert [r.headers["x-ratelimit-remaining-requests"] for r in replies[:3]] == ["2", "1", "0"]
    assert "x-ratelimit-limit-tokens" in replies[0].headers  # the default 100000 tokens/minute
    refused = replies[3]
    _error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 20  # one request refills in 20 s
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


async def test_tokens_per_minute_are_charged_after_the_answer(fake_stack, script: Script) -> None:
    settings = fake_stack()
    store = open_key_store(settings)
    _, token = store.create("wordy", ["chat"], rpm=0, tpm=40)
    store.close()
    body = {"message": "How do I roll back a Deployment?", "stream": False}
    async with serving(create_app(settings)) as client:
        first = await client.post("/v1/chat", json=body, headers=_bearer(token))
        assert first.status_code == 200, first.text
        assert first.headers["x-ratelimit-remaining-tokens"] == "40"  # nothing used yet
        assert "x-ratelimit-limit-requests" not in first.headers  # rpm 0: unlimited
        used = first.json()["usage"]
        assert used["prompt_tokens"] + used["completion_tokens"] > 40
        second = await client.post("/v1/chat", json=body, headers=_bearer(token))
        _error(second, 429, "rate_limited")
        assert int(second.headers["retry-after"]) >= 1
        assert second.headers["x-ratelimit-remaining-tokens"] == "0"
        streamed = await client.post(
            "/v1/chat", json={**body, "stream": True}, headers=_bearer(token)
        )
        assert streamed.status_code == 429


async def test_anonymous_callers_share_one_owner_and_keys_own_theirs(
    fake_stack, monkeypatch
) -> None:
    monkeypatch.setattr("services.gateway.access.auth.ANY_KEY_TTL_S", 0.0)
    settings = fake_stack(auth="auto")
    async with serving(create_app(settings)) as client:
        anon = (await client.post("/v1/conversations", json={"title": "mine"})).json()
        store = open_key_store(settings)
        _, alice = store.create("alice", ["chat"])
        _, bob = store.create("bob", ["chat"])
        store.close()
        created = await client.post("/v1/conversations", headers=_bearer(alice), json={})
        assert created.status_code == 201
        conv = created.json()["id"]
        for method in ("GET", "DELETE"):
            reply = await client.request(method, f"/v1/conversations/{conv}", headers=_bearer(bob))
            _error(reply, 404, "not_found")
        body = {"message": "and a StatefulSet?", "conversation_id": conv, "stream": False}
        _error(await client.post("/v1/chat", json=body, headers=_bearer(bob)), 404, "not_found")
        listed = await client.get("/v1/conversations", headers=_bearer(alice))
        assert [c["id"] for c in listed.json()["conversations"]] == [conv]
        reply = await client.get(f"/v1/conversations/{anon['id']}", headers=_bearer(alice))
        _error(reply, 404, "not_found")
