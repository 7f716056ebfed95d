"""Scripted stand-ins for the five gRPC services, on a real grpc.aio server on loopback.

They let the gateway's own logic (ordering, degraded modes, streaming, cancellation) be tested
through real gRPC calls without loading a model; the real services meet it in tests/e2e.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from docent.v1 import (
    embedding_pb2,
    embedding_pb2_grpc,
    generation_pb2,
    generation_pb2_grpc,
    moderation_pb2,
    moderation_pb2_grpc,
    reranking_pb2,
    reranking_pb2_grpc,
    retrieval_pb2,
    retrieval_pb2_grpc,
)

ANSWER = ["Use ", "kubectl ", "rollout ", "undo ", "[1]", ". ", "See ", "also ", "[2][9]."]


def word_vector(text: str, dim: int = 64) -> list[float]:
    """A unit vector counting the words of ``text`` in ``dim`` hashed buckets."""
    import hashlib
    import math
    import re

    counts = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        counts[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = math.sqrt(sum(c * c for c in counts)) or 1.0
    return [c / norm for c in counts]


def hit(i: int, text: str | None = None) -> retrieval_pb2.Hit:
    return retrieval_pb2.Hit(
        chunk_id=f"doc{i}#0",
        doc_id=f"doc{i}",
        title=f"Page {i}",
        source_path=f"concepts/page{i}.md",
        heading_path=["Page", f"Section {i}"],
        text=text if text is not None else f"Passage number {i}. " * 40,
        score=1.0 / (i + 1),
        retriever_scores={"dense": 0.5, "sparse": 2.0},
    )


@dataclass
class Script:
    """What the fakes do, and what they saw; tests steer and inspect it."""

    hits: int = 8
    blocked_words: tuple[str, ...] = ("idiot",)
    out_of_scope_words: tuple[str, ...] = ("sourdough",)
    injected_marker: str = "IGNORE ALL PREVIOUS INSTRUCTIONS"
    moderation_delay: float = 0.0
    answer: list[str] = field(default_factory=lambda: list(ANSWER))
    replies: list[str] = field(default_factory=list)  # one whole reply per Generate call, in turn
    token_delay: float = 0.0
    endless: bool = False  # stream tokens until cancelled
    max_model_len: int = 100_000
    rerank_reverse: bool = True
    generate_error: grpc.StatusCode | None = None
    retrieval_delay: float = 0.0
    retrieval_degraded: tuple[str, ...] = ()
    rerank_error: grpc.StatusCode | None = None
    seen: dict[str, list] = field(default_factory=dict)
    documents: dict[str, retrieval_pb2.Document] = field(default_factory=dict)  # upserted
    generation_cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    retrieval_cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    generating: int = 0  # Generate calls in progress now
    word_vectors: bool = False  # embed texts as hashed bags of words (cosine = word overlap)
    passages: list[str] | None = None  # texts of the retrieval hits, instead of "Passage number"

    def saw(self, name: str, request: object) -> None:
        self.seen.setdefault(name, []).append(request)

    @property
    def chat_calls(self) -> set[str]:
        """What requests called, leaving out the gateway's background look at the corpus
        (the scope calibration lists the documents at start-up, whenever it gets to it)."""
        return set(self.seen) - {"list_documents"}


class Moderation(moderation_pb2_grpc.ModerationServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def Check(self, request, context):
        self.script.saw("moderation", request)
        await asyncio.sleep(self.script.moderation_delay)
        flagged = any(w in request.text for w in self.script.blocked_words)
        category = moderation_pb2.CategoryScore(
            category="toxicity", score=0.9 if flagged else 0.1, threshold=0.5, flagged=flagged
        )
        decision = moderation_pb2.DECISION_BLOCK if flagged else moderation_pb2.DECISION_ALLOW
        return moderation_pb2.CheckResponse(
            decision=decision, categories=[category], reason="toxicity" if flagged else ""
        )

    async def CheckContext(self, request, context):
        self.script.saw("moderation_context", request)
        words = self.script.out_of_scope_words
        off = any(w in request.question for w in words)
        allow, block = moderation_pb2.DECISION_ALLOW, moderation_pb2.DECISION_BLOCK
        scope = moderation_pb2.CheckResponse(decision=block if off else allow)
        passages = [
            moderation_pb2.CheckResponse(
                decision=block if self.script.injected_marker in text else allow
            )
            for text in request.passages
        ]
        return moderation_pb2.CheckContextResponse(scope=scope, passages=passages)


class Embedding(embedding_pb2_grpc.EmbeddingServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def Embed(self, request, context):
        self.script.saw("embedding", request)
        if self.script.word_vectors:
            vectors = [embedding_pb2.Vector(values=word_vector(t)) for t in request.texts]
            return embedding_pb2.EmbedResponse(vectors=vectors, model_id="fake-words", dim=64)
        vectors = [embedding_pb2.Vector(values=[0.6, 0.8]) for _ in request.texts]
        return embedding_pb2.EmbedResponse(vectors=vectors, model_id="fake", dim=2)


class Retrieval(retrieval_pb2_grpc.RetrievalServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def Search(self, request, context):
        self.script.saw("retrieval", request)
        try:
            await asyncio.sleep(self.script.retrieval_delay)
        except asyncio.CancelledError:
            self.script.retrieval_cancelled.set()
            raise
        return retrieval_pb2.SearchResponse(
            hits=[
                hit(i, self.script.passages[i] if self.script.passages else None)
                for i in range(
                    len(self.script.passages) if self.script.passages else self.script.hits
                )
            ],
            degraded=list(self.script.retrieval_degraded),
        )

    async def Upsert(self, request, context):
        self.script.saw("upsert", request)
        for doc in request.documents:
            self.script.documents[doc.doc_id] = doc
        chunks = sum(len(d.chunks) for d in request.documents)
        return retrieval_pb2.UpsertResponse(
            documents_upserted=len(request.documents), chunks_upserted=chunks
        )

    async def Delete(self, request, context):
        self.script.saw("delete", request)
        gone = [
            d
            for d in self.script.documents.values()
            if d.doc_id in request.doc_ids or d.source_path in request.source_paths
        ]
        for doc in gone:
            del self.script.documents[doc.doc_id]
        return retrieval_pb2.DeleteResponse(
            documents_deleted=len(gone), chunks_deleted=sum(len(d.chunks) for d in gone)
        )

    async def ListDocuments(self, request, context):
        self.script.saw("list_documents", request)
        wanted = set(request.doc_ids)
        return retrieval_pb2.ListDocumentsResponse(
            documents=[
                retrieval_pb2.DocumentInfo(
                    doc_id=d.doc_id,
                    title=d.title,
                    source_path=d.source_path,
                    content_hash=d.content_hash,
                    chunk_count=len(d.chunks),
                )
                for d in self.script.documents.values()
                if not wanted or d.doc_id in wanted
            ]
        )


class Reranking(reranking_pb2_grpc.RerankingServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def Rerank(self, request, context):
        self.script.saw("reranking", request)
        if self.script.rerank_error is not None:
            await context.abort(self.script.rerank_error, "reranker exploded")
        n = len(request.passages)
        scores = [float(i) if self.script.rerank_reverse else float(-i) for i in range(n)]
        return reranking_pb2.RerankResponse(scores=scores, model_id="fake")


class Generation(generation_pb2_grpc.GenerationServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def CountTokens(self, request, context):
        self.script.saw("count_tokens", request)
        chars = sum(len(m.content) for m in request.messages) + len(request.text)
        return generation_pb2.CountTokensResponse(
            count=chars // 4, max_model_len=self.script.max_model_len
        )

    async def Generate(self, request, context):
        self.script.saw("generation", request)
        if self.script.generate_error is not None:
            await context.abort(self.script.generate_error, "generation exploded")
        self.script.generating += 1
        answer = self.script.answer
        if self.script.replies:
            reply = self.script.replies.pop(0)
            answer = [reply[: len(reply) // 2], reply[len(reply) // 2 :]]
        try:
            i = 0
            while self.script.endless or i < len(answer):
                text = "tick " if self.script.endless else answer[i]
                await asyncio.sleep(self.script.token_delay)
                yield generation_pb2.GenerateResponse(text=text, token_ids=[i])
                i += 1
            yield generation_pb2.GenerateResponse(
                finish_reason=generation_pb2.FINISH_REASON_STOP,
                usage=generation_pb2.Usage(prompt_tokens=42, completion_tokens=i),
            )
        except asyncio.CancelledError:
            self.script.generation_cancelled.set()
            raise
        finally:
            self.script.generating -= 1


SERVICERS = {
    "moderation": (Moderation, moderation_pb2_grpc.add_ModerationServicer_to_server),
    "embedding": (Embedding, embedding_pb2_grpc.add_EmbeddingServicer_to_server),
    "retrieval": (Retrieval, retrieval_pb2_grpc.add_RetrievalServicer_to_server),
    "reranking": (Reranking, reranking_pb2_grpc.add_RerankingServicer_to_server),
    "generation": (Generation, generation_pb2_grpc.add_GenerationServicer_to_server),
}


async def start_fake(script: Script, services: tuple[str, ...]) -> tuple[grpc.aio.Server, str]:
    """One SERVING server hosting ``services``; returns it and its address."""
    server = grpc.aio.server()
    for name in services:
        servicer, add = SERVICERS[name]
        add(servicer(script), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"
