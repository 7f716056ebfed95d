"""Documents API on the real stack: upload, background job, answerable, listed, deleted."""

from __future__ import annotations

import time

import httpx
import pytest

from services.ingestion.core import accepted_suffixes
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

MARKDOWN = b"""# Frobnicator maintenance

## Calibration

The Zorblax frobnicator must be calibrated every 42 days by running `frob calibrate --deep`.
Calibration takes eleven minutes and requires the flux valve to be closed.
"""
OTHER_FORMATS = {  # tried when the ingestion pipeline accepts them
    ".txt": b"Quuxwidget pressure limits\n\nA quuxwidget must never exceed 7 bar of pressure.\n",
    ".html": b"<html><head><title>Blorptank guide</title></head><body><h1>Blorptank guide</h1>"
    b"<p>The blorptank is refilled with blue coolant every Tuesday.</p></body></html>",
}


def _wait(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/v1/documents/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_upload_ingest_answer_list_delete(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=300) as client:
        reply = client.post(
            "/v1/documents", files={"file": ("frobnicator.md", MARKDOWN, "text/markdown")}
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        assert accepted["status"] in ("queued", "running") and accepted["doc_id"] == "frobnicator"
        job = _wait(client, accepted["job_id"])
        assert job["status"] == "succeeded" and job["chunks"] >= 1, job
        listed = client.get("/v1/documents").json()["documents"]
        mine = [d for d in listed if d["doc_id"] == "frobnicator"]
        assert mine and mine[0]["title"] == "Frobnicator maintenance" and mine[0]["chunks"] >= 1
        question = {"message": "How often must the Zorblax frobnicator be calibrated?"}
        answer = client.post("/v1/chat", json={**question, "stream": False, "max_tokens": 32})
        assert any(s["doc_id"] == "frobnicator" for s in answer.json()["sources"])
        resent = client.post("/v1/documents", files={"file": ("frobnicator.md", MARKDOWN)})
        again = _wait(client, resent.json()["job_id"])
        assert again["status"] == "succeeded" and again["unchanged"] is True
        assert client.delete("/v1/documents/frobnicator").status_code == 204
        listed = client.get("/v1/documents").json()["documents"]
        assert "frobnicator" not in {d["doc_id"] for d in listed}
        assert client.delete("/v1/documents/frobnicator").status_code == 404


@pytest.mark.parametrize("suffix", sorted(OTHER_FORMATS))
def test_other_formats_when_the_pipeline_parses_them(stack: Stack, suffix: str) -> None:
    if suffix not in accepted_suffixes():
        pytest.skip(f"the ingestion pipeline does not accept {suffix} yet")
    with httpx.Client(base_url=stack.url, timeout=300) as client:
        name = f"upload{suffix.replace('.', '_')}{suffix}"
        reply = client.post("/v1/documents", files={"file": (name, OTHER_FORMATS[suffix])})
        assert reply.status_code == 202, reply.text
        job = _wait(client, reply.json()["job_id"])
        assert job["status"] == "succeeded", job
        assert client.delete(f"/v1/documents/{job['doc_id']}").status_code == 204
