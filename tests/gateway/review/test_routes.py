"""``/v1/review`` over the real app (in-process gateway, scripted services): sample, import,
rate, export, agreement, the admin scope, and 422s with the JSON error body."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx

from services.gateway.access.keys import open_key_store
from services.gateway.app import create_app
from tests.gateway.conftest import serving
from tests.gateway.fakes import Script

QUESTIONS = [
    {"_id": "q-roll", "text": "How do I roll back a Deployment?", "answer": "ignored"},
    {"_id": "q-pod", "text": "What is a Pod?"},
]


async def _chat(client: httpx.AsyncClient, message: str) -> dict:
    reply = await client.post("/v1/chat", json={"message": message, "stream": False})
    assert reply.status_code == 200, reply.text
    return reply.json()


async def _finish(client: httpx.AsyncClient, job_id: str, headers: dict | None = None) -> dict:
    for _ in range(200):
        job = (await client.get(f"/v1/review/import/{job_id}", headers=headers)).json()
        if job["state"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"import job still running: {job}")


async def _rate(client: httpx.AsyncClient, item: str, rater: str, *scores: int, **kw) -> dict:
    h, a, s = scores
    body = {"helpfulness": h, "accuracy": a, "safety": s, **kw}
    reply = await client.put(f"/v1/review/items/{item}/ratings/{rater}", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_sample_conversations_with_sources_never_twice(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        asked = ["How do I roll back?", "What is a Pod?", "How do I scale a Deployment?"]
        for message in asked:
            await _chat(client, message)
        conv = (await client.get("/v1/conversations")).json()["conversations"][0]["id"]
        stored = (await client.get(f"/v1/conversations/{conv}")).json()["messages"]
        assert stored[0]["sources"] is None and stored[1]["sources"][0]["n"] == 1
        assert set(stored[1]["sources"][0]) == {"n", "title", "source_path", "text"}
        first = await client.post("/v1/review/sample", json={"count": 2, "seed": 7})
        assert first.status_code == 201, first.text
        items = first.json()["items"]
        assert len(items) == 2 and {i["question"] for i in items} <= set(asked)
        assert all(i["source"] == "conversation" and i["question_id"] is None for i in items)
        assert items[0]["sources"][0]["title"] and items[0]["conversation_id"].startswith("conv_")
        rest = (await client.post("/v1/review/sample", json={"count": 50})).json()["items"]
        assert len(rest) == 1 and rest[0]["question"] not in {i["question"] for i in items}
        assert (await client.post("/v1/review/sample", json={"count": 5})).json()["items"] == []
        listed = (await client.get("/v1/review/items")).json()["items"]
        assert len(listed) == 3 and all(i["rating"] is None for i in listed)


async def test_same_seed_same_sample(fake_stack, tmp_path) -> None:
    chosen = []
    for run in range(2):
        settings = fake_stack(data_dir=tmp_path / f"run{run}")
        async with serving(create_app(settings)) as client:
            for n in range(6):
                await _chat(client, f"Question number {n}?")
            reply = await client.post("/v1/review/sample", json={"count": 3, "seed": 42})
            chosen.append(sorted(i["question"] for i in reply.json()["items"]))
    assert chosen[0] == chosen[1] and len(chosen[0]) == 3


async def test_import_rate_re_rate_export_and_agreement(fake_stack, script: Script) -> None:
    async with serving(create_app(fake_stack())) as client:
        started = await client.post(
            "/v1/review/import", json={"questions": QUESTIONS, "max_tokens": 32}
        )
        assert started.status_code == 202, started.text
        assert started.json()["total"] == 2
        job = await _finish(client, started.json()["job_id"])
        assert job == {**job, "state": "done", "done": 2, "total": 2, "failed": 0}
        assert {r.sampling.max_tokens for r in script.seen["generation"]} == {32}
        items = (await client.get("/v1/review/items")).json()["items"]
        assert [i["question_id"] for i in items] == ["q-roll", "q-pod"]
        assert all(i["source"] == "import" and i["answer"] for i in items)
        assert items[0]["sources"][0]["text"].count("Passage number") == 40  # whole passage
        # Imported answers are not conversations to sample, nor listed as the caller's.
        assert (await client.post("/v1/review/sample", json={"count": 5})).json()["items"] == []
        assert (await client.get("/v1/conversations")).json()["conversations"] == []
        again = await client.post("/v1/review/import", json={"questions": QUESTIONS[:1]})
        assert (await _finish(client, again.json()["job_id"]))["done"] == 1
        assert len((await client.get("/v1/review/items")).json()["items"]) == 2  # not re-added

        roll, pod = items[0]["id"], items[1]["id"]
        await _rate(client, roll, "ana", 2, 2, 5, comment="first go")
        rerated = await _rate(client, roll, "ana", 4, 5, 5, comment='cites [1], "well"\nok')
        assert rerated["helpfulness"] == 4 and rerated["rater"] == "ana"
        await _rate(client, pod, "ana", 2, 3, 4)
        await _rate(client, roll, "bo", 5, 5, 5)
        await _rate(client, pod, "bo", 1, 3, 4)
        mine = (await client.get("/v1/review/items", params={"rater": "ana"})).json()["items"]
        assert [i["rating"]["helpfulness"] for i in mine] == [4, 2]
        assert mine[0]["rating"]["comment"] == 'cites [1], "well"\nok'

        agreement = (await client.get("/v1/review/agreement")).json()
        assert agreement["raters"] == ["ana", "bo"] and agreement["ratings"] == 4
        # helpfulness ana (4, 2) vs bo (5, 1): no exact match; p_o = 0, p_e = 0 -> kappa 0.
        pair = agreement["helpfulness"]["pairs"][0]
        assert pair == {**pair, "raters": ["ana", "bo"], "items": 2, "kappa": 0.0}
        assert agreement["helpfulness"]["alpha"] is not None
        # accuracy (5, 3) twice: perfect agreement; safety: ana (5, 4), bo (5, 4) too.
        assert agreement["accuracy"]["alpha"] == 1.0
        assert agreement["accuracy"]["pairs"][0]["weighted_kappa"] == 1.0

        exported = await client.get("/v1/review/export", params={"format": "json"})
        assert exported.status_code == 200
        body = exported.json()
        assert set(body) == {"items", "agreement"} and body["agreement"] == agreement
        first = body["items"][0]
        assert first["question_id"] == "q-roll" and first["sources"]
        assert [(r["rater"], r["helpfulness"]) for r in first["ratings"]] == [("ana", 4), ("bo", 5)]
        assert "rating" not in first

        table = await client.get("/v1/review/export", params={"format": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        assert table.headers["content-disposition"].startswith("attachment")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert [(r["question_id"], r["rater"], r["helpfulness"]) for r in rows] == [
            ("q-roll", "ana", "4"),
            ("q-roll", "bo", "5"),
            ("q-pod", "ana", "2"),
            ("q-pod", "bo", "1"),
        ]
        assert rows[0]["comment"] == 'cites [1], "well"\nok'
        assert rows[0]["question"] == QUESTIONS[0]["text"] and rows[0]["answer"]
        assert rows[0]["created_at"].endswith("+00:00")


async def test_failed_generation_is_counted_not_fatal(fake_stack, script: Script) -> None:
    import grpc

    script.generate_error = grpc.StatusCode.INTERNAL
    async with serving(create_app(fake_stack())) as client:
        started = await client.post("/v1/review/import", json={"questions": QUESTIONS})
        job = await _finish(client, started.json()["job_id"])
        assert job["state"] == "done" and job["failed"] == 2 and job["done"] == 0
        assert job["errors"] and job["errors"][0].startswith("q-roll: ")
        assert (await client.get("/v1/review/items")).json()["items"] == []


async def test_admin_scope_is_required_once_keys_exist(fake_stack) -> None:
    settings = fake_stack(auth="required")
    keys = open_key_store(settings)
    _, chat_token = keys.create("chatter", ["chat"])
    _, admin_token = keys.create("root", ["admin"])
    keys.close()
    async with serving(create_app(settings)) as client:
        none = await client.get("/v1/review/items")
        assert none.status_code == 401 and none.json()["error"]["code"] == "unauthorized"
        chat = {"authorization": f"Bearer {chat_token}"}
        for method, path, body in (
            ("GET", "/v1/review/items", None),
            ("GET", "/v1/review/agreement", None),
            ("GET", "/v1/review/export", None),
            ("POST", "/v1/review/sample", {"count": 1}),
            ("POST", "/v1/review/import", {"questions": QUESTIONS}),
            ("PUT", f"/v1/review/items/rv_{'0' * 24}/ratings/ana", {}),
        ):
            reply = await client.request(method, path, json=body, headers=chat)
            assert reply.status_code == 403, (path, reply.text)
            assert "'admin' scope" in reply.json()["error"]["message"]
        admin = {"authorization": f"Bearer {admin_token}"}
        assert (await client.get("/v1/review/items", headers=admin)).json() == {"items": []}
        started = await client.post(
            "/v1/review/import", json={"questions": QUESTIONS[:1]}, headers=admin
        )
        assert (await _finish(client, started.json()["job_id"], admin))["done"] == 1


async def test_bad_input_is_422_with_the_json_error_body(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        numbered = {"_id": 17, "text": "A question file numbering its rows?"}
        body = {"questions": [QUESTIONS[0], numbered]}
        await _finish(client, (await client.post("/v1/review/import", json=body)).json()["job_id"])
        items = (await client.get("/v1/review/items")).json()["items"]
        assert [i["question_id"] for i in items] == ["q-roll", "17"]
        item = items[0]["id"]
        good = {"helpfulness": 3, "accuracy": 3, "safety": 3}
        rating = f"/v1/review/items/{item}/ratings/ana"
        for body, field in (
            ({**good, "helpfulness": 6}, "helpfulness"),
            ({**good, "accuracy": 0}, "accuracy"),
            ({**good, "safety": "4"}, "safety"),
            ({**good, "safety": True}, "safety"),
            ({**good, "safety": 4.0}, "safety"),
            ({"helpfulness": 3, "accuracy": 3}, "safety"),
            ({**good, "comment": "x" * 2001}, "comment"),
            ({**good, "stars": 5}, "stars"),
        ):
            reply = await client.put(rating, json=body)
            assert reply.status_code == 422, (body, reply.text)
            error = reply.json()["error"]
            assert error["code"] == "invalid_request" and error["field"] == field, error
        assert (await client.put(rating, json={**good, "comment": "x" * 2000})).status_code == 200
        long_name = await client.put(f"/v1/review/items/{item}/ratings/{'r' * 65}", json=good)
        assert long_name.status_code == 422 and long_name.json()["error"]["field"] == "rater"
        blank = await client.put(f"/v1/review/items/{item}/ratings/%20", json=good)
        assert blank.status_code == 422
        bad_id = await client.put("/v1/review/items/nope/ratings/ana", json=good)
        assert bad_id.status_code == 422 and bad_id.json()["error"]["field"] == "item_id"
        missing = await client.put(f"/v1/review/items/rv_{'0' * 24}/ratings/ana", json=good)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        for body in ({"count": 0}, {"count": 501}, {"count": "3"}, {"count": 3, "x": 1}):
            reply = await client.post("/v1/review/sample", json=body)
            assert reply.status_code == 422 and "error" in reply.json(), body
        too_many = {"questions": [{"_id": str(i), "text": "q"} for i in range(501)]}
        for body in (too_many, {"questions": []}, {"questions": [{"text": "no id"}]}):
            reply = await client.post("/v1/review/import", json=body)
            assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid_request"
        unknown = await client.get("/v1/review/import/job_nope")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        fmt = await client.get("/v1/review/export", params={"format": "xml"})
        assert fmt.status_code == 422 and fmt.json()["error"]["field"] == "format"


async def test_review_page_and_assets_are_served(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        page = await client.get("/review")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for asset in ("review.js", "review.css"):
            assert f"/static/{asset}" in page.text
            assert (await client.get(f"/static/{asset}")).status_code == 200
        for element in ("rater-name", "api-key", "sample-button", "import-file", "agreement"):
            assert f'id="{element}"' in page.text
