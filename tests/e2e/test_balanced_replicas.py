"""Two replicas each of embedding and retrieval as real processes, one client target per service.

Each client names both replicas (``127.0.0.1:a,127.0.0.1:b``): its channel spreads calls
round-robin, so each replica serves a fair share (within 60/40, read from each replica's own
``docent_<service>_rpc_seconds_count``). Then one replica of each is killed with SIGKILL while
traffic runs: every request still succeeds, in time, with the right answer, because gRPC
retries the idempotent RPCs that were in flight on the dead replica and the round-robin picker
drops it.

Retrieval's embedded store is single-writer, so the two retrieval replicas do not share a data
dir: each has its own, seeded with the same documents (and so gives the same answers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from docent.v1 import retrieval_pb2
from services.runtime.clients import EmbeddingClient, Endpoint, RetrievalClient
from tests.e2e.replicas import ReplicaLauncher, ReplicaSet

pytestmark = pytest.mark.e2e

TIMEOUT_S = 10.0  # per-call deadline, gRPC's retries included
PASSAGES = {
    "rollback": "kubectl rollout undo deployment/web returns a Deployment to its previous "
    "revision; --to-revision picks an older one from the rollout history.",
    "configmap": "A ConfigMap holds non-confidential configuration as key-value pairs that "
    "pods consume as environment variables, arguments or files in a volume.",
    "secret": "A Secret stores a small amount of sensitive data such as a password or a "
    "token, so that it is not put in a Pod specification or an image.",
    "probe": "A readiness probe tells the kubelet when a container can take traffic; a pod "
    "that fails it is removed from the endpoints of every Service that selects it.",
    "hpa": "The HorizontalPodAutoscaler changes the replica count of a Deployment to match "
    "observed CPU use or a custom metric against a target value.",
    "pvc": "A PersistentVolumeClaim requests storage of a size and access mode; a "
    "StorageClass provisions a PersistentVolume to satisfy it.",
    "taint": "Taints on a node repel pods; a pod with a matching toleration may be "
    "scheduled there, which keeps GPU nodes for the workloads that need them.",
    "headless": "A headless Service has no cluster IP: DNS returns the address of every ready "
    "pod it selects, so clients can balance over the pods themselves.",
}
QUESTIONS = {
    "rollback": "How do I roll back a Deployment to an earlier revision?",
    "configmap": "Where do I put configuration key-value pairs for my pods?",
    "secret": "How should I store a password that a pod needs?",
    "probe": "When does a pod stop receiving traffic from a Service?",
    "hpa": "How can the number of replicas follow CPU usage?",
    "pvc": "How does a pod ask for persistent storage?",
    "taint": "How do I keep ordinary pods off my GPU nodes?",
    "headless": "How can clients see every pod behind a Service?",
}


async def _seed(retrieval: ReplicaSet, embedding: EmbeddingClient) -> None:
    """The same documents, with the same vectors, into each retrieval replica's own store."""
    ids = list(PASSAGES)
    vectors = await embedding.embed([PASSAGES[i] for i in ids])
    documents = [
        retrieval_pb2.Document(
            doc_id=doc_id,
            title=doc_id,
            source_path=f"kb/{doc_id}.md",
            content_hash=doc_id,
            chunks=[
                retrieval_pb2.Chunk(
                    chunk_id=f"{doc_id}#0",
                    text=PASSAGES[doc_id],
                    char_end=len(PASSAGES[doc_id]),
                    vector=vector.tolist(),
                )
            ],
        )
        for doc_id, vector in zip(ids, vectors, strict=True)
    ]
    for replica in retrieval:
        direct = RetrievalClient(Endpoint("retrieval", replica.address, 60.0))
        assert await direct.upsert(documents) == (len(ids), len(ids))
        await direct.close()


async def _drive(
    ask: Callable[[str], Awaitable[str]],
    requests: int,
    concurrency: int,
    after: tuple[int, Callable[[], None]] | None = None,
) -> tuple[list[BaseException], list[tuple[str, str]], float]:
    """``requests`` asks from ``concurrency`` workers; ``after = (n, fn)`` runs fn once n asks
    have finished. Returns (errors, (expected, got) per answer, slowest ask in seconds)."""
    topics = list(QUESTIONS)
    todo = iter(range(requests))
    errors: list[BaseException] = []
    answers: list[tuple[str, str]] = []
    slowest = 0.0

    async def worker() -> None:
        nonlocal slowest
        for i in todo:
            topic = topics[i % len(topics)]
            start = time.monotonic()
            try:
                answers.append((topic, await ask(QUESTIONS[topic])))
            except Exception as exc:  # every failure is recorded, not just the first
                errors.append(exc)
            slowest = max(slowest, time.monotonic() - start)
            if after and len(answers) + len(errors) == after[0]:
                after[1]()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors, answers, slowest


def _shares(before: list[float], after: list[float]) -> list[float]:
    served = [b - a for a, b in zip(before, after, strict=True)]
    return [s / sum(served) for s in served]


async def test_two_replicas_share_the_load_and_survive_a_kill(
    replicas: ReplicaLauncher,
) -> None:
    embedding = await replicas.start("embedding", 2, env={"THREADS": "1"})
    retrieval = await replicas.start("retrieval", 2)
    embed_client = EmbeddingClient(Endpoint("embedding", embedding.address, TIMEOUT_S))
    search_client = RetrievalClient(Endpoint("retrieval", retrieval.address, TIMEOUT_S))
    await _seed(retrieval, embed_client)

    async def ask(question: str) -> str:
        """Top document for ``question``: Embed then Search, each on whichever replica."""
        vector = (await embed_client.embed([question]))[0]
        hits = await search_client.search(question, vector.tolist(), k=3)
        return hits[0].doc_id

    # Warm up: both connections of each channel up, so round-robin has both replicas to pick.
    errors, answers, _ = await _drive(ask, 16, 2)
    assert not errors and all(expected == got for expected, got in answers), (errors, answers)

    # 1. A fair share each.
    embeds, searches = embedding.counts("Embed"), retrieval.counts("Search")
    errors, answers, _ = await _drive(ask, 200, 4)
    assert not errors, errors[:3]
    assert all(expected == got for expected, got in answers)
    embed_shares = _shares(embeds, embedding.counts("Embed"))
    search_shares = _shares(searches, retrieval.counts("Search"))
    print(f"shares over 200 asks: embedding {embed_shares}, retrieval {search_shares}")
    for share in embed_shares + search_shares:
        assert 0.4 <= share <= 0.6, (embed_shares, search_shares)

    # 2. kill -9 one replica of each after 60 of 300 asks: none is lost, none is late.
    embeds, searches = embedding.counts("Embed"), retrieval.counts("Search")
    retried = embedding[1].retries("Embed") + retrieval[1].retries("Search")

    def kill_one_of_each() -> None:
        embedding[0].kill()
        retrieval[0].kill()

    start = time.monotonic()
    errors, answers, slowest = await _drive(ask, 300, 8, after=(60, kill_one_of_each))
    elapsed = time.monotonic() - start
    assert embedding[0].proc.returncode == retrieval[0].proc.returncode == -9
    assert not errors, [repr(e) for e in errors[:3]]
    assert len(answers) == 300 and all(expected == got for expected, got in answers)
    assert slowest < TIMEOUT_S
    survivors = (
        embedding[1].rpc_count("Embed") - embeds[1],
        retrieval[1].rpc_count("Search") - searches[1],
    )
    assert min(survivors) >= 300 - 60 - 8, survivors  # everything after the kill, and more
    retried = embedding[1].retries("Embed") + retrieval[1].retries("Search") - retried
    print(
        f"kill phase: 300 asks in {elapsed:.1f}s, slowest {slowest:.2f}s, survivors served "
        f"{survivors}, attempts retried onto them {retried:.0f}"
    )
    # With 8 asks in flight the kill hits calls on the dead replicas: they were saved by
    # gRPC's retries (else this test would only show the picker skipping a dead replica).
    assert retried >= 1
    await embed_client.close()
    await search_client.close()
