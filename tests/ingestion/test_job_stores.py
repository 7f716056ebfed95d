"""One contract for every job store: SQLite and a real Redis behave the same."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.ingestion.job_stores import RedisJobStore, SqliteJobStore
from services.ingestion.jobs import ABANDONED, FAILED, JOB_STORES, RUNNING, SUCCEEDED, Job, JobStore
from services.ingestion.settings import IngestSettings
from services.runtime.redis import async_redis_client


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    found: JobStore
    if request.param == "sqlite":
        found = SqliteJobStore(tmp_path / "jobs.sqlite3", keep=5)
    else:
        client = async_redis_client(request.getfixturevalue("redis_url"))
        found = RedisJobStore(client, ttl_s=60, keep=5, tag=uuid.uuid4().hex)
    await found.open()
    yield found
    await found.close()


def _job(owner: str = "key_1", age: float = 0.0, **fields: object) -> Job:
    return Job(
        f"job_{uuid.uuid4().hex}", owner, "a.md", "a", created_at=time.time() - age, **fields
    )  # type: ignore[arg-type]


async def test_put_get_and_replace(store: JobStore) -> None:
    job = _job()
    await store.put(job)
    assert await store.get(job.id) == job
    job.finish(SUCCEEDED)
    job.chunks = 3
    await store.put(job)
    assert await store.get(job.id) == job
    assert await store.get("job_nope") is None


async def test_list_is_per_owner_newest_first_and_bounded(store: JobStore) -> None:
    mine = [_job("key_a", age=10 - i) for i in range(7)]
    for job in [*mine, _job("key_b")]:
        await store.put(job)
    listed = await store.list("key_a", 3)
    assert [j.id for j in listed] == [j.id for j in reversed(mine)][:3]
    assert len(await store.list("key_a", 100)) == 5  # keep=5: the oldest were dropped
    assert [j.owner for j in await store.list("key_b", 10)] == ["key_b"]


async def test_only_unfinished_jobs_with_a_lapsed_lease_are_failed(store: JobStore) -> None:
    now = time.time()
    lapsed = _job(status=RUNNING, lease_until=now - 1)
    queued = _job(lease_until=now - 1)
    alive = _job(status=RUNNING, lease_until=now + 60)
    done = _job(status=SUCCEEDED, lease_until=now - 1)
    for job in (lapsed, queued, alive, done):
        await store.put(job)
    assert await store.fail_abandoned(now, ABANDONED) == 2
    for job in (lapsed, queued):
        found = await store.get(job.id)
        assert found is not None and found.status == FAILED and found.error == ABANDONED
        assert found.finished_at is not None
    assert (await store.get(alive.id)).status == RUNNING  # type: ignore[union-attr]
    assert (await store.get(done.id)).status == SUCCEEDED  # type: ignore[union-attr]
    assert await store.fail_abandoned(now, ABANDONED) == 0


def test_the_registry_names_the_choices(tmp_path: Path) -> None:
    store = JOB_STORES.get("sqlite")(IngestSettings(data_dir=tmp_path))
    assert isinstance(store, SqliteJobStore) and store.path.parent == tmp_path
    assert JOB_STORES.names() == ["redis", "sqlite"]
    with pytest.raises(Exception, match="valid choices"):
        JOB_STORES.get("postgres")
