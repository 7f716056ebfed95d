"""The ingestion service over real gRPC: readiness, uploads and jobs, bulk runs, errors, metrics."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from docent.v1 import ingestion_pb2, ingestion_pb2_grpc
from docentlib.errors import InvalidInput, NotFound, UnsupportedDocument
from services.ingestion.servicer import IngestionServicer
from services.runtime.clients import Endpoint, IngestionClient
from tests.ingestion.backends import Backends
from tests.serving import Served, error_count, rpc_status, serve_in_process

DONE = (ingestion_pb2.JOB_STATUS_SUCCEEDED, ingestion_pb2.JOB_STATUS_FAILED)


def _get_job(channel: grpc.aio.Channel):
    request = ingestion_pb2.GetJobRequest(job_id="job_x", owner="k")
    return ingestion_pb2_grpc.IngestionStub(channel).GetJob(request, timeout=10)


@pytest.fixture(scope="module")
async def served(servers: Backends, tmp_path_factory: pytest.TempPathFactory):
    settings = servers.ingest_settings(tmp_path_factory.mktemp("ingestion"))
    async with serve_in_process(settings, IngestionServicer(settings), _get_job) as served:
        yield served


@pytest.fixture
async def client(served: Served):
    found = IngestionClient(Endpoint("ingestion", served.address, 30.0))
    yield found
    await found.close()


async def _finished(client: IngestionClient, job: ingestion_pb2.Job) -> ingestion_pb2.Job:
    deadline = time.monotonic() + 60
    while (found := await client.get_job(job.job_id, job.owner)).status not in DONE:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    return found


async def test_not_serving_until_started(served: Served) -> None:
    assert served.health_before_load == "NOT_SERVING"
    assert served.probe_before_load == (grpc.StatusCode.UNAVAILABLE, "ingestion is still starting")
    assert served.health_after_load == "SERVING"


async def test_upload_then_poll_the_job(client: IngestionClient) -> None:
    samples = "docent_ingestion_job_seconds_count"
    before = REGISTRY.get_sample_value(samples, {"status": "succeeded"}) or 0.0
    data = b"# Servicer guide\n\n" + b"Pods are scheduled onto nodes by the scheduler. " * 20
    client.CHUNK_BYTES = 100  # several chunk messages
    job = await client.upload("servicer guide.md", data, owner="key_s", content_type="text/x-md")
    assert job.status == ingestion_pb2.JOB_STATUS_QUEUED and job.doc_id == "servicer_guide"
    done = await _finished(client, job)
    assert done.status == ingestion_pb2.JOB_STATUS_SUCCEEDED and done.chunks >= 1, done
    assert done.HasField("finished_at") and not done.HasField("error")
    assert [j.job_id for j in await client.list_jobs("key_s")] == [job.job_id]
    assert await client.list_jobs("key_other") == []
    assert REGISTRY.get_sample_value(samples, {"status": "succeeded"}) == before + 1


async def test_bad_requests_get_clear_statuses(client: IngestionClient, served: Served) -> None:
    with pytest.raises(UnsupportedDocument, match=r"accepted suffixes: .*\.md"):
        await client.upload("tool.exe", b"MZ")
    with pytest.raises(InvalidInput, match="empty") as empty:
        await client.upload("notes.md", b" \n")
    assert not isinstance(empty.value, UnsupportedDocument)
    with pytest.raises(NotFound, match="job_nope"):
        await client.get_job("job_nope", "key_s")
    with pytest.raises(InvalidInput, match="absolute"):
        await client.ingest_path("relative/folder")
    stub = ingestion_pb2_grpc.IngestionStub(served.channel)
    chunk_first = stub.Upload(iter([ingestion_pb2.UploadRequest(chunk=b"x")]), timeout=10)
    code, details = await rpc_status(chunk_first)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "starts with its metadata" in details
    assert error_count("ingestion", "Upload", "INVALID_ARGUMENT") >= 3


async def test_ingest_path_reports_like_the_cli(client: IngestionClient, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nAlpha pods.\n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 cut")
    report = await client.ingest_path(str(tmp_path))
    assert (report.files, report.ingested, report.unchanged) == (2, 1, 0)
    assert list(report.failed) == ["broken.pdf"] and report.chunks >= 1 and report.seconds > 0


async def test_the_bulk_runner_ingests_a_mounted_folder(servers: Backends, tmp_path: Path) -> None:
    """``python -m services.ingestion.bulk PATH``, as the chart's bulk ingestion Job runs it."""
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "bulk.md").write_text("# Bulk\n\nLoaded by a Job over a volume.\n")
    env = {
        **os.environ,
        "DOCENT_INGEST_EMBEDDING_ADDRESS": servers.embedding,
        "DOCENT_INGEST_RETRIEVAL_ADDRESS": servers.retrieval,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ingestion.bulk", str(tmp_path / "kb"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    summary, report = out.decode().strip().splitlines()[-2:]
    assert summary.startswith("1 files: 1 ingested")
    assert json.loads(report)["chunks"] >= 1
    missing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ingestion.bulk", str(tmp_path / "nope"),
        env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert await missing.wait() == 2
