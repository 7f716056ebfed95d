"""The cluster's upload path as processes on loopback: two gateways, two replicas of each of
ingestion, embedding and retrieval, one real Redis, one shared store.

Like a Deployment behind headless Services: each gateway names both ingestion replicas (and
both retrieval replicas, for listing documents), each ingestion replica names both embedding
and both retrieval replicas, and every channel spreads calls round-robin. Job records live in
Redis, so any gateway answers for any job. Retrieval runs the OpenSearch store, stateless: both
replicas read and write one store, the OpenSearch protocol double of tests/retrieval (no
OpenSearch server can run here; docs/opensearch.md says what was run against what).

1. Uploads alternate between the gateways, and each job is polled through the *other* gateway:
   each replica of each service serves a fair share (within 60/40, from its own metrics).
2. ``kill -9`` one replica of embedding, retrieval and ingestion while uploads and reads run:
   no idempotent request fails (gRPC retries them onto the survivors); an upload caught on the
   dead ingestion replica fails visibly (503, or its job is marked failed once its lease lapses,
   never left running) and the client uploads it again, as docs/deploy.md tells it to. In the
   end every document is indexed.
3. ``kill -9`` one gateway: the other answers for every job, those made through the dead one
   included, and lists every document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.replicas import ReplicaLauncher, ReplicaSet
from tests.redis_server import redis_server
from tests.retrieval.opensearch_double import OpenSearchDouble

pytestmark = pytest.mark.e2e

LEASE_S = 3.0  # a dead replica's jobs are failed this long after its last renewal
TERMINAL = {"succeeded", "failed"}


def document(i: int) -> tuple[str, bytes]:
    """A small markdown page with content of its own (the same bytes ingest as 'unchanged')."""
    text = (
        f"# Widget {i}\n\nWidget {i} is configured with the key widget-{i}-setting. "
        f"Set it to {i * 7} to enable batching for widget {i}; the default is off.\n"
    )
    return f"widget-{i:03d}.md", text.encode()


@dataclass
class Uploader:
    """The client side: uploads through alternating gateways, reads jobs through the other one,
    and uploads again whatever a dead replica lost (503, a failed job)."""

    gateways: list[httpx.AsyncClient]
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> file name, every job made
    done: dict[str, str] = field(default_factory=dict)  # file name -> doc id, once succeeded
    reads: int = 0
    read_errors: list[str] = field(default_factory=list)
    reuploads: list[str] = field(default_factory=list)  # why each file was uploaded again
    finished: int = 0

    def gateway(self, turn: int) -> httpx.AsyncClient:
        alive = [g for g in self.gateways if not g.is_closed]
        return alive[turn % len(alive)]

    async def read(self, turn: int, path: str) -> httpx.Response:
        """An idempotent GET: it must succeed, whatever replica died."""
        self.reads += 1
        try:
            reply = await self.gateway(turn).get(path)
        except httpx.HTTPError as exc:
            self.read_errors.append(f"GET {path}: {exc!r}")
            raise
        if reply.status_code != 200:
            self.read_errors.append(f"GET {path}: {reply.status_code} {reply.text[:200]}")
        return reply

    async def ingest(self, i: int) -> None:
        """Upload document ``i`` until its job succeeds; each job is polled via the other
        gateway, and the document list is read once it is in."""
        name, data = document(i)
        for attempt in range(6):
            turn = i + attempt
            reply = await self.gateway(turn).post("/v1/documents", files={"file": (name, data)})
            if reply.status_code != 202:
                self.reuploads.append(f"{name}: upload answered {reply.status_code}")
                continue
            job = reply.json()
            self.jobs[job["job_id"]] = name
            deadline = time.monotonic() + 60
            while job["status"] not in TERMINAL and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                job = (await self.read(turn + 1, f"/v1/documents/jobs/{job['job_id']}")).json()
            assert job["status"] in TERMINAL, f"job of {name} stuck {job['status']}"
            if job["status"] == "succeeded":
                self.done[name] = job["doc_id"]
                await self.read(turn, "/v1/documents")
                self.finished += 1
                return
            self.reuploads.append(f"{name}: job failed: {job['error']}")
        raise AssertionError(f"{name} was never ingested: {self.reuploads}")

    async def run(self, first: int, count: int, concurrency: int, after=None) -> None:
        """Ingest documents ``first .. first+count-1``; ``after = (n, fn)`` calls fn once n of
        them are in."""
        todo = iter(range(first, first + count))

        async def worker() -> None:
            for i in todo:
                await self.ingest(i)
                if after and self.finished - first == after[0]:
                    after[1]()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def shares(before: list[float], after: list[float]) -> list[float]:
    served = [b - a for a, b in zip(before, after, strict=True)]
    assert sum(served) > 0
    return [s / sum(served) for s in served]


def counts(services: dict[str, tuple[ReplicaSet, tuple[str, ...]]]) -> dict[str, list[float]]:
    """RPCs each replica of each service served, all the watched methods together."""
    return {
        name: [sum(r.rpc_count(m) for m in methods) for r in rs]
        for name, (rs, methods) in services.items()
    }


@pytest.fixture
def double() -> Iterator[OpenSearchDouble]:
    server = OpenSearchDouble().start()
    yield server
    # Two replicas start at once and both create the indexes: the one that loses the race
    # gets OpenSearch's "already exists" and goes on (as it should); nothing else may be refused.
    lost_race = [
        r for r in server.rejected
        if r.op == "indices.create" and r.error == "resource_already_exists_exception"
    ]  # fmt: skip
    assert len(lost_race) <= 2, lost_race  # at most once per index
    rejected = [
        (r.method, r.path, r.error, r.body[:300]) for r in server.rejected if r not in lost_race
    ]
    server.stop()
    assert rejected == [], f"the double refused requests: {rejected}"


async def test_uploads_spread_over_replicas_and_survive_kills(
    replicas: ReplicaLauncher, double: OpenSearchDouble, tmp_path: Path
) -> None:
    with redis_server(tmp_path / "redis") as redis_url:
        embedding = await replicas.start("embedding", 2, env={"THREADS": "1"})
        retrieval = await replicas.start(
            "retrieval",
            2,
            env={"STORE": "opensearch", "OPENSEARCH_HOSTS": double.url, "OPENSEARCH_REPLICAS": "0"},
        )
        ingestion = await replicas.start(
            "ingestion",
            2,
            env={
                "JOB_STORE": "redis",
                "REDIS_URL": redis_url,
                "JOB_LEASE_S": str(LEASE_S),
                "EMBEDDING_ADDRESS": embedding.address,
                "RETRIEVAL_ADDRESS": retrieval.address,
                "TIMEOUT_S": "20",
            },
        )
        nowhere = f"127.0.0.1:{free_port()}"  # chat's other stages are not part of this test
        gateways = await replicas.start(
            "gateway",
            2,
            env={
                "STORE": "redis",
                "REDIS_URL": redis_url,
                "INGESTION_ADDRESS": ingestion.address,
                "RETRIEVAL_ADDRESS": retrieval.address,
                "EMBEDDING_ADDRESS": embedding.address,
                "RERANKING_ADDRESS": nowhere,
                "MODERATION_ADDRESS": nowhere,
                "GENERATION_ADDRESS": nowhere,
            },
        )
        clients = [
            httpx.AsyncClient(base_url=f"http://{g.address}", timeout=30.0) for g in gateways
        ]
        client = Uploader(clients)
        # Round-robin spreads *calls*, whatever their method: an ingestion job makes exactly
        # two retrieval calls (ListDocuments, then Upsert), so with strictly alternating picks
        # every Upsert can land on one replica and every listing on the other. The share that
        # round-robin promises is over all of a service's calls.
        watched = {
            "ingestion": (ingestion, ("Upload", "GetJob")),
            "embedding": (embedding, ("Embed",)),
            "retrieval": (retrieval, ("Upsert", "ListDocuments")),
        }

        # Warm-up: every channel connected to both replicas of what it names.
        await client.run(0, 8, 2)
        assert not client.read_errors and not client.reuploads, (
            client.read_errors + client.reuploads
        )

        # 1. A fair share each.
        before = counts(watched)
        await client.run(8, 48, 4)
        assert not client.read_errors and not client.reuploads, (
            client.read_errors + client.reuploads
        )
        fair = {name: shares(before[name], now) for name, now in counts(watched).items()}
        print("shares over 48 uploads:", {k: [round(s, 2) for s in v] for k, v in fair.items()})
        for name, split in fair.items():
            assert all(0.4 <= s <= 0.6 for s in split), (name, split)

        # 2. kill -9 one replica of each gRPC service after 12 of 60 more uploads.
        def kill_one_of_each() -> None:
            for service in (embedding, retrieval, ingestion):
                service[0].kill()

        start = time.monotonic()
        await client.run(56, 60, 6, after=(12, kill_one_of_each))
        elapsed = time.monotonic() - start
        assert embedding[0].proc.returncode == retrieval[0].proc.returncode == -9
        assert ingestion[0].proc.returncode == -9
        print(
            f"kill phase: 60 uploads in {elapsed:.1f}s, {client.reads} reads in all, "
            f"uploaded again: {client.reuploads}"
        )
        assert client.read_errors == [], client.read_errors[:3]
        assert len(client.done) == 116
        for why in client.reuploads:  # only what the dead ingestion replica held is sent again
            assert "503" in why or "worker stopped" in why, why
        survivors = [ingestion[1].rpc_count("Upload"), retrieval[1].rpc_count("Upsert")]
        assert min(survivors) >= 60 - 12 - 6, survivors

        # 3. kill -9 one gateway: the other answers for every job and lists every document.
        gateways[0].kill()
        await clients[0].aclose()
        survivor = clients[1]
        for job_id, name in client.jobs.items():
            job = (await survivor.get(f"/v1/documents/jobs/{job_id}")).json()
            assert job["status"] in TERMINAL and job["filename"] == name, job
        listed = {d["doc_id"] for d in (await survivor.get("/v1/documents")).json()["documents"]}
        assert set(client.done.values()) <= listed
        assert len(listed) == 116
        await survivor.aclose()
