"""The ingestion core on real embedding and retrieval servers: uploads, bulk runs, recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docentlib.errors import InvalidInput, NotFound, UnsupportedDocument
from services.ingestion.core import IngestionCore, safe_filename
from services.ingestion.job_stores import SqliteJobStore
from services.ingestion.jobs import ABANDONED, FAILED, RUNNING, SUCCEEDED, Job
from tests.ingestion.backends import Backends

GUIDE = b"# Rollbacks\n\nRoll a deployment back with kubectl rollout undo.\n"


async def _parts(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _finished(core: IngestionCore, job: Job) -> Job:
    deadline = time.monotonic() + 60
    while (found := await core.get(job.id, job.owner)).status not in (SUCCEEDED, FAILED):
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    return found


@pytest.fixture
async def core(servers: Backends, tmp_path: Path) -> AsyncIterator[IngestionCore]:
    found = IngestionCore.from_settings(servers.ingest_settings(tmp_path / "ingestion"))
    await found.start()
    yield found
    await found.close()


async def test_an_upload_is_ingested_then_unchanged(core: IngestionCore) -> None:
    job = await core.upload("../Core Guide.md", "key_1", _parts(GUIDE[:10], GUIDE[10:]))
    assert (job.filename, job.doc_id, job.status) == ("Core_Guide.md", "Core_Guide", "queued")
    done = await _finished(core, job)
    assert done.status == SUCCEEDED and done.chunks >= 1 and not done.unchanged, done
    assert done.finished_at is not None and done.finished_at >= done.created_at
    again = await _finished(core, await core.upload("Core Guide.md", "key_1", _parts(GUIDE)))
    assert again.status == SUCCEEDED and again.unchanged and again.chunks == 0
    assert [j.id for j in await core.list("key_1")] == [again.id, job.id]
    assert not list(core.uploads.iterdir())  # each upload's file is removed when its job ends
    with pytest.raises(NotFound):
        await core.get(job.id, "key_2")  # another key never sees it


async def test_bad_uploads_are_refused_before_any_work(core: IngestionCore) -> None:
    with pytest.raises(UnsupportedDocument, match=r"tool\.exe.*accepted suffixes: .*\.md"):
        await core.upload("tool.exe", "key_1", _parts(b"MZ"))
    with pytest.raises(InvalidInput, match=r"notes\.md is empty"):
        await core.upload("notes.md", "key_1", _parts(b"  ", b"\n"))
    with pytest.raises(InvalidInput, match="needs a file name"):
        await core.upload("...", "key_1", _parts(b"x"))
    with pytest.raises(NotFound):
        await core.get("job_nope", "key_1")
    assert await core.list("key_1") == []


async def test_jobs_run_one_at_a_time(core: IngestionCore) -> None:
    jobs = [await core.upload(f"doc{i}.md", "key_c", _parts(GUIDE + b"%d" % i)) for i in range(3)]
    most_running = 0
    while any(j.status not in (SUCCEEDED, FAILED) for j in jobs):
        jobs = [await core.get(j.id, "key_c") for j in jobs]
        most_running = max(most_running, sum(j.status == RUNNING for j in jobs))
        await asyncio.sleep(0.01)
    assert most_running <= 1 and all(j.status == SUCCEEDED for j in jobs)


async def test_ingest_path_runs_a_folder(core: IngestionCore, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    (folder / "ops").mkdir(parents=True)
    (folder / "ops" / "scaling.md").write_text("# Scaling\n\nScale with kubectl scale.\n")
    (folder / "notes.txt").write_text("Notes\n\nPods restart on failure.\n")
    report = await core.ingest_path(str(folder))
    assert (report.files, report.ingested, report.failed) == (2, 2, {}) and report.chunks >= 2
    assert (await core.ingest_path(str(folder))).unchanged == 2
    with pytest.raises(InvalidInput, match="absolute"):
        await core.ingest_path("kb")
    with pytest.raises(NotFound, match="does not exist"):
        await core.ingest_path(str(tmp_path / "missing"))


async def test_chunking_leaves_the_event_loop_free(
    core: IngestionCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document that takes half a second to chunk does not stall other RPCs meanwhile."""
    chunk = core.ingestor.chunker.chunk

    def slow_chunk(doc):  # the real chunker, made slow with a blocking sleep
        time.sleep(0.5)
        return chunk(doc)

    monkeypatch.setattr(core.ingestor.chunker, "chunk", slow_chunk)
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "slow.md").write_text("# Slow\n\nChunked off the event loop.\n")
    run = asyncio.create_task(core.ingest_path(str(tmp_path / "kb")))
    last, longest = time.monotonic(), 0.0
    while not run.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    assert (await run).ingested == 1
    assert longest < 0.25, f"the event loop stalled for {longest:.2f}s"


async def test_jobs_of_a_stopped_worker_are_failed_at_start(
    servers: Backends, tmp_path: Path
) -> None:
    settings = servers.ingest_settings(tmp_path / "ingestion")
    store = SqliteJobStore.from_settings(settings)
    await store.open()
    left = Job("job_left", "key_1", "a.md", "a", status=RUNNING, lease_until=time.time() - 1)
    await store.put(left)
    await store.close()
    core = IngestionCore.from_settings(settings)
    await core.start()
    try:
        found = await core.get("job_left", "key_1")
    finally:
        await core.close()
    assert found.status == FAILED and found.error == ABANDONED


async def test_closing_fails_the_jobs_still_running(servers: Backends, tmp_path: Path) -> None:
    settings = servers.ingest_settings(tmp_path / "ingestion")
    core = IngestionCore.from_settings(settings)
    await core.start()
    jobs = [await core.upload(f"d{i}.md", "key_1", _parts(GUIDE + b"%d" % i)) for i in range(3)]
    await core.close()
    reopened = IngestionCore.from_settings(settings)
    await reopened.start()
    try:
        found = [await reopened.get(j.id, "key_1") for j in jobs]
    finally:
        await reopened.close()
    assert all(j.status in (SUCCEEDED, FAILED) for j in found), found
    assert any(j.error == ABANDONED for j in found)


def test_file_names_are_made_safe() -> None:
    assert safe_filename("../../etc/passwd.md") == "passwd.md"
    assert safe_filename("C:\\Users\\me\\My Notes.md") == "My_Notes.md"
    assert safe_filename(".hidden.md") == "hidden.md"


async def test_replicas_sharing_redis_see_each_others_jobs_and_dead_ones_fail(
    servers: Backends, tmp_path: Path, redis_url: str
) -> None:
    """Two replicas on one Redis: a job uploaded to one is read on the other, and a job left
    running by a replica that died is failed by the periodic sweep once its lease lapses."""
    shared = {"job_store": "redis", "redis_url": redis_url, "job_lease_s": 1.0}
    a = IngestionCore.from_settings(servers.ingest_settings(tmp_path / "a", **shared))
    b = IngestionCore.from_settings(servers.ingest_settings(tmp_path / "b", **shared))
    await a.start()
    await b.start()
    try:
        job = await a.upload("shared.md", "key_r", _parts(GUIDE + b"shared"))
        assert (await _finished(b, job)).status == SUCCEEDED
        dead = Job("job_dead", "key_r", "d.md", "d", status=RUNNING, lease_until=time.time() + 0.5)
        await a.store.put(dead)  # as a replica that then died would have left it
        assert (await b.get("job_dead", "key_r")).status == RUNNING
        found = await _finished(b, dead)
        assert found.status == FAILED and found.error == ABANDONED
    finally:
        await a.close()
        await b.close()
