"""Upload validation and the web page's files (ingestion itself is tested end to end)."""

from __future__ import annotations

from services.gateway.app import create_app
from services.gateway.documents.jobs import accepted_suffixes, safe_filename
from tests.gateway.conftest import serving


async def test_uploads_are_checked_before_any_work(fake_stack) -> None:
    async with serving(create_app(fake_stack())) as client:
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


def test_file_names_are_made_safe() -> None:
    assert safe_filename("../../etc/passwd.md") == "passwd.md"
    assert safe_filename("C:\\Users\\me\\My Notes.md") == "My_Notes.md"
    assert safe_filename(".hidden.md") == "hidden.md"
    assert ".md" in accepted_suffixes()


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
