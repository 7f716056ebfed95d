"""kill -9 during ingestion: after a restart every document is wholly present or wholly absent.

The real retrieval service runs as its own process; a client upserts documents (each several
chunks) one call after another until the process is killed with SIGKILL at a random moment,
possibly mid-write. After a restart on the same data directory: every acknowledged document is
there, every document there has all its chunks, and both indexes hold exactly the stored chunks
(each chunk is found by its own words and by its own vector).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from docent.v1 import retrieval_pb2
from services.runtime.clients import DependencyError, Endpoint, RetrievalClient, health_status
from tests.conftest import REPO, free_port

DIM = 16
CHUNKS = 5


def _vector(doc: int, chunk: int) -> np.ndarray:
    v = np.random.default_rng(doc * 100 + chunk).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _document(n: int) -> retrieval_pb2.Document:
    return retrieval_pb2.Document(
        doc_id=f"doc{n}",
        title=f"Document {n}",
        source_path=f"docs/doc{n}.md",
        content_hash=f"h{n}",
        chunks=[
            retrieval_pb2.Chunk(
                chunk_id=f"doc{n}#{c}",
                text=f"marker{n}x{c} shared words about durable storage {'filler ' * 50}",
                heading_path=["Section"],
                char_start=c * 100,
                char_end=c * 100 + 99,
                vector=_vector(n, c).tolist(),
            )
            for c in range(CHUNKS)
        ],
    )


class Service:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    async def start(self) -> RetrievalClient:
        env = dict(
            os.environ,
            DOCENT_RETRIEVAL_PORT=str(self.port),
            DOCENT_RETRIEVAL_METRICS_PORT=str(free_port()),
            DOCENT_RETRIEVAL_DATA_DIR=str(self.data_dir),
            DOCENT_RETRIEVAL_DIM=str(DIM),
            DOCENT_RETRIEVAL_DENSE_SAVE_INTERVAL_S="0.5",
        )
        log = open(self.data_dir.parent / f"retrieval-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.retrieval"], cwd=REPO, env=env, stderr=log
        )
        address = f"127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while await health_status(address) != "SERVING":
            assert self.proc.poll() is None, "retrieval service exited"
            assert time.monotonic() < deadline, "retrieval service never became SERVING"
            await asyncio.sleep(0.2)
        return RetrievalClient(Endpoint("retrieval", address, 10.0))

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.mark.parametrize("seed", [1, 2])
async def test_documents_are_whole_or_absent_after_kill_9(tmp_path: Path, seed: int) -> None:
    service = Service(tmp_path / "retrieval")
    client = await service.start()
    acknowledged: set[int] = set()
    sent = 0
    rng = random.Random(seed)
    kill_after = rng.uniform(1.5, 3.0)

    async def writer() -> None:
        nonlocal sent
        while True:
            batch = [_document(sent + i) for i in range(3)]
            sent += 3
            try:
                await client.upsert(batch)
            except DependencyError:
                return  # the process died under us
            acknowledged.update(range(sent - 3, sent))

    task = asyncio.create_task(writer())
    await asyncio.sleep(kill_after)
    service.kill()
    await asyncio.wait_for(task, timeout=30)
    await client.close()
    assert len(acknowledged) >= 3, "nothing was written before the kill; test is too fast"

    client = await service.start()
    try:
        infos = await client.list_documents()
        present = {int(d.doc_id.removeprefix("doc")) for d in infos}
        assert acknowledged <= present  # every acknowledged write survived
        assert present <= set(range(sent))
        assert all(d.chunk_count == CHUNKS for d in infos)  # no partial document
        for n in sorted(present):
            for c in (0, CHUNKS - 1):
                sparse = await client.search(f"marker{n}x{c}", None, 1, "sparse")
                assert [h.chunk_id for h in sparse] == [f"doc{n}#{c}"]
                dense = await client.search("", _vector(n, c).tolist(), 1, "dense")
                assert [h.chunk_id for h in dense] == [f"doc{n}#{c}"]
        # Nothing beyond what is stored: a missing document is in neither index.
        missing = sorted(set(range(sent)) - present)
        for n in missing[:3]:
            assert await client.search(f"marker{n}x0", None, 5, "sparse") == []
        # Deletion by source path and by id still works on the recovered state.
        first, second = sorted(present)[:2]
        await client.delete([f"doc{first}"], [])
        await client.delete([], [f"docs/doc{second}.md"])
        left = {d.doc_id for d in await client.list_documents()}
        assert f"doc{first}" not in left and f"doc{second}" not in left
        assert await client.search(f"marker{second}x0", None, 5, "sparse") == []
    finally:
        await client.close()
        service.kill()
