"""Uploads through the gateway to a real ingestion service; the web page's files."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from services.gateway.app import create_app
from tests.conftest import free_port
from tests.gateway.conftest import serving
from tests.ingestion.backends import backends, ingestion


@pytest.fixture(scope="module")
async def ingestion_address(tmp_path_factory: pytest.TempPathFactory):
    """A real ingestion service over real embedding and retrieval servers."""
    async with backends(tmp_path_factory.mktemp("retrieval")) as found:
        settings = found.ingest_settings(tmp_path_factory.mktemp("ingestion"))
        async with ingestion(settings) as address:
            yield address


async def _finished(client: httpx.AsyncClient, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while (job := (await client.get(f"/v1/documents/jobs/{job_id}")).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)
    return job


async def test_an_upload_becomes_a_job_the_gateway_reports(fake_stack, ingestion_address) -> None:
    async with serving(create_app(fake_stack(ingestion_address=ingestion_address))) as client:
        markdown = b"# Gateway upload\n\nThe Zorblax frobnicator is calibrated every 42 days.\n"
        reply = await client.post("/v1/documents", files={"file": ("frob.md", markdown)})
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["status"] in ("queued", "running") and accepted["doc_id"] == "frob"
        job = await _finished(client, accepted["job_id"])
        assert job["status"] == "succeeded" and job["chunks"] >= 1 and job["error"] is None, job
        assert set(job) == set(accepted)  # the same JobOut contract as before


async def test_uploads_are_checked_before_any_work(fake_stack, ingestion_address) -> None:
    async with serving(create_app(fake_stack(ingestion_address=ingestion_address))) as client:
        exe = await client.post("/v1/documents", files={"file": ("tool.exe", b"MZ")})
        assert exe.status_code == 415
        error = exe.json()["error"]
        assert error["code"] == "unsupported_media_type" and ".md" in error["message"]
        empty = await client.post("/v1/documents", files={"file": ("notes.md", b"  \n")})
        assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
        missing = await client.post("/v1/documents", data={"other": "x"})
        assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"
        job = await client.get("/v1/documents/jobs/job_nope")
        assert job.status_code == 404 and job.json()["error"]["code"] == "not_found"


async def test_uploads_fail_with_503_while_ingestion_is_down(fake_stack) -> None:
    settings = fake_stack(ingestion_address=f"127.0.0.1:{free_port()}", ingestion_timeout_s=2)
    async with serving(create_app(settings)) as client:
        reply = await client.post("/v1/documents", files={"file": ("a.md", b"# A\n\nText.\n")})
        assert reply.status_code == 503
        error = reply.json()["error"]
        assert error["code"] == "dependency_unavailable" and error["dependency"] == "ingestion"
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["dependencies"]["ingestion"] == "NOT_SERVING"
        assert "ingestion" in ready.json()["degraded"]


async def test_the_chat_page_and_its_assets_are_served(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
        page = await client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script src="/static/app.js">' in page.text and 'id="conversations"' in page.text
        script = await client.get("/static/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "/v1/chat" in script.text and "/v1/conversations" in script.text
        css = await client.get("/static/style.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert (await client.get("/static/secrets.txt")).status_code == 404
        assert "/" not in (await client.get("/openapi.json")).json()["paths"]
