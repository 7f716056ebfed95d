"""Typed asyncio clients for every service: the only way one component calls another.

Each call carries a deadline and the current request id; failures come back as domain errors
naming the dependency, so callers (the gateway, ingestion, the CLI) never see raw gRPC errors.
A client's channel spreads calls round-robin over every replica its address names and lets
gRPC retry the RPCs each client lists as idempotent (:mod:`services.runtime.channels`); every
call goes through the dependency's circuit breaker (:mod:`services.runtime.resilience`), so a
dependency that keeps failing is not called at all.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from docent.v1 import (
    embedding_pb2,
    embedding_pb2_grpc,
    generation_pb2,
    generation_pb2_grpc,
    ingestion_pb2,
    ingestion_pb2_grpc,
    moderation_pb2,
    moderation_pb2_grpc,
    reranking_pb2,
    reranking_pb2_grpc,
    retrieval_pb2,
    retrieval_pb2_grpc,
)
from docentlib.errors import DocentError, InvalidInput, NotFound, UnsupportedDocument
from services.runtime.channels import channel_options, grpc_target, service_config
from services.runtime.context import REQUEST_ID_HEADER, get_request_id
from services.runtime.interceptors import ERROR_CODE_HEADER
from services.runtime.resilience import UNHEALTHY, CircuitBreaker, CircuitOpen, RetryPolicy


class DependencyError(DocentError):
    """A dependency failed, was unreachable or missed its deadline."""

    code = "dependency_unavailable"
    grpc_status = grpc.StatusCode.UNAVAILABLE

    def __init__(self, dependency: str, message: str, status: str = "UNAVAILABLE") -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency
        self.status = status


def _translate(dependency: str, err: grpc.aio.AioRpcError) -> DocentError:
    code, detail = err.code(), err.details() or ""
    trailers = dict(err.trailing_metadata() or ())
    if trailers.get(ERROR_CODE_HEADER) == UnsupportedDocument.code:
        return UnsupportedDocument(detail)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidInput(detail)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DependencyError(dependency, "deadline exceeded", code.name)
    return DependencyError(dependency, detail or code.name.lower(), code.name)


@dataclass(frozen=True)
class Endpoint:
    """Where a dependency listens and how long a call to it may take."""

    name: str
    address: str
    timeout: float


class _Client:
    """Channel, metadata, breaker and error translation shared by every typed client.

    A subclass names its service (``_service``, the proto's full name) and the RPCs that may
    be retried (``_idempotent``): repeating them changes nothing, as they read, or write keyed
    by id. Anything else is sent once.
    """

    _stub_class: Any  # the generated stub class of the service
    _service: ClassVar[str]
    _idempotent: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(endpoint.name)
        try:
            target = grpc_target(endpoint.address)
        except ValueError as exc:
            raise InvalidInput(f"{endpoint.name} address: {exc}") from None
        config = service_config(self._service, self._idempotent, self.retry)
        self.channel = grpc.aio.insecure_channel(target, options=channel_options(config))
        self._health = health_pb2_grpc.HealthStub(self.channel)
        self._stub = self._stub_class(self.channel)

    @property
    def name(self) -> str:
        return self.endpoint.name

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        request_id = get_request_id()
        return ((REQUEST_ID_HEADER, request_id),) if request_id else ()

    def _admit(self) -> None:
        """Raise a :class:`DependencyError` at once while the breaker refuses calls."""
        try:
            self.breaker.before_call()
        except CircuitOpen as exc:
            raise DependencyError(self.name, str(exc), "CIRCUIT_OPEN") from None

    def _failed(self, err: grpc.aio.AioRpcError) -> DocentError:
        """Tell the breaker how the call ended; the domain error to raise instead."""
        if err.code() in UNHEALTHY:
            self.breaker.on_failure()
        else:
            self.breaker.on_neutral()
        return _translate(self.name, err)

    async def _unary(self, method: grpc.aio.UnaryUnaryMultiCallable, request: object) -> Any:
        """One call: breaker, deadline (bounding gRPC's retries too), translated errors."""
        self._admit()
        try:
            reply = await method(request, timeout=self.endpoint.timeout, metadata=self._metadata())
        except grpc.aio.AioRpcError as err:
            raise self._failed(err) from None
        except BaseException:
            self.breaker.on_neutral()
            raise
        self.breaker.on_success()
        return reply

    async def serving(self, timeout: float = 1.0) -> bool:
        """True when the service's health check says SERVING."""
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self.channel.close()


class EmbeddingClient(_Client):
    _stub_class = embedding_pb2_grpc.EmbeddingStub
    _service = embedding_pb2.DESCRIPTOR.services_by_name["Embedding"].full_name
    _idempotent = ("Embed",)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` as a float32 array of shape (len(texts), dim)."""
        reply = await self._unary(self._stub.Embed, embedding_pb2.EmbedRequest(texts=list(texts)))
        return np.array([v.values for v in reply.vectors], dtype=np.float32).reshape(
            len(reply.vectors), reply.dim
        )


class RetrievalClient(_Client):
    _stub_class = retrieval_pb2_grpc.RetrievalStub
    _service = retrieval_pb2.DESCRIPTOR.services_by_name["Retrieval"].full_name
    # Upsert replaces whole documents by id and Delete removes by id or path: a repeat lands
    # on the same state (a repeated Delete may report 0 deleted).
    _idempotent = ("Search", "ListDocuments", "Upsert", "Delete")

    async def search(
        self, query: str, vector: Sequence[float] | None, k: int, mode: str = "hybrid"
    ) -> list[retrieval_pb2.Hit]:
        return list((await self.search_response(query, vector, k, mode)).hits)

    async def search_response(
        self, query: str, vector: Sequence[float] | None, k: int, mode: str = "hybrid"
    ) -> retrieval_pb2.SearchResponse:
        """The whole reply: hits and ``degraded`` (retrievers left out because they failed)."""
        modes = {
            "sparse": retrieval_pb2.SEARCH_MODE_SPARSE,
            "dense": retrieval_pb2.SEARCH_MODE_DENSE,
            "hybrid": retrieval_pb2.SEARCH_MODE_HYBRID,
        }
        if mode not in modes:
            raise InvalidInput(f"mode must be one of {sorted(modes)}, got {mode!r}")
        request = retrieval_pb2.SearchRequest(
            query=query, vector=list(vector) if vector is not None else [], k=k, mode=modes[mode]
        )
        return await self._unary(self._stub.Search, request)

    async def upsert(self, documents: Sequence[retrieval_pb2.Document]) -> tuple[int, int]:
        reply = await self._unary(
            self._stub.Upsert, retrieval_pb2.UpsertRequest(documents=list(documents))
        )
        return reply.documents_upserted, reply.chunks_upserted

    async def delete(
        self, doc_ids: Sequence[str] = (), source_paths: Sequence[str] = ()
    ) -> tuple[int, int]:
        request = retrieval_pb2.DeleteRequest(
            doc_ids=list(doc_ids), source_paths=list(source_paths)
        )
        reply = await self._unary(self._stub.Delete, request)
        return reply.documents_deleted, reply.chunks_deleted

    async def list_documents(self, doc_ids: Sequence[str] = ()) -> list[retrieval_pb2.DocumentInfo]:
        request = retrieval_pb2.ListDocumentsRequest(doc_ids=list(doc_ids))
        return list((await self._unary(self._stub.ListDocuments, request)).documents)


class RerankingClient(_Client):
    _stub_class = reranking_pb2_grpc.RerankingStub
    _service = reranking_pb2.DESCRIPTOR.services_by_name["Reranking"].full_name
    _idempotent = ("Rerank",)

    async def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        request = reranking_pb2.RerankRequest(query=query, passages=list(passages))
        return list((await self._unary(self._stub.Rerank, request)).scores)


class ModerationClient(_Client):
    _stub_class = moderation_pb2_grpc.ModerationStub
    _service = moderation_pb2.DESCRIPTOR.services_by_name["Moderation"].full_name
    _idempotent = ("Check", "CheckContext")

    async def check(self, text: str, direction: str = "input") -> moderation_pb2.CheckResponse:
        directions = {
            "input": moderation_pb2.DIRECTION_INPUT,
            "output": moderation_pb2.DIRECTION_OUTPUT,
        }
        request = moderation_pb2.CheckRequest(text=text, direction=directions[direction])
        return await self._unary(self._stub.Check, request)

    async def check_context(
        self,
        question: str,
        passages: Sequence[str],
        top_retrieval_score: float | None = None,
        retrieval_relevance: float | None = None,
    ) -> moderation_pb2.CheckContextResponse:
        """Out-of-scope verdict of ``question`` and an injection verdict per passage, at once."""
        request = moderation_pb2.CheckContextRequest(
            question=question,
            passages=list(passages),
            top_retrieval_score=top_retrieval_score,
            retrieval_relevance=retrieval_relevance,
        )
        return await self._unary(self._stub.CheckContext, request)


class GenerationClient(_Client):
    """Generation client; ``timeout`` bounds a whole stream."""

    _stub_class = generation_pb2_grpc.GenerationStub
    _service = generation_pb2.DESCRIPTOR.services_by_name["Generation"].full_name
    # Generate is never retried: a replayed stream would repeat tokens the caller has shown.
    _idempotent = ("CountTokens",)

    async def count_tokens(self, messages: Sequence[tuple[str, str]]) -> tuple[int, int]:
        """(prompt tokens, max_model_len) for ``messages`` given as (role, content) pairs."""
        request = generation_pb2.CountTokensRequest(
            messages=[generation_pb2.ChatMessage(role=r, content=c) for r, c in messages]
        )
        reply = await self._unary(self._stub.CountTokens, request)
        return reply.count, reply.max_model_len

    async def generate(
        self,
        messages: Sequence[tuple[str, str]],
        max_tokens: int = 0,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        adapter: str = "",
        repetition_penalty: float | None = None,
        no_repeat_ngram_size: int | None = None,
        json_schema: str | None = None,
        grammar: str | None = None,
    ) -> AsyncGenerator[generation_pb2.GenerateResponse, None]:
        """Stream responses; leaving the loop early cancels the RPC (and the server's work).

        ``adapter`` names a LoRA adapter the server serves; empty is the base model. The
        repetition controls left as None take the engine's defaults. ``json_schema`` (JSON
        text) or ``grammar`` (Lark) constrains the completion.
        """
        sampling = generation_pb2.SamplingParams(
            max_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=list(stop)
        )
        if seed is not None:
            sampling.seed = seed
        if repetition_penalty is not None:
            sampling.repetition_penalty = repetition_penalty
        if no_repeat_ngram_size is not None:
            sampling.no_repeat_ngram_size = no_repeat_ngram_size
        request = generation_pb2.GenerateRequest(
            messages=[generation_pb2.ChatMessage(role=r, content=c) for r, c in messages],
            sampling=sampling,
            adapter=adapter,
        )
        if json_schema is not None:
            request.structured.json_schema = json_schema
        elif grammar is not None:
            request.structured.grammar = grammar
        self._admit()
        call = self._stub.Generate(
            request, timeout=self.endpoint.timeout, metadata=self._metadata()
        )
        healthy = False
        try:
            async for reply in call:
                if not healthy:
                    healthy = True
                    self.breaker.on_success()
                yield reply
        except grpc.aio.AioRpcError as err:
            raise self._failed(err) from None
        finally:
            if not healthy:
                self.breaker.on_neutral()
            call.cancel()


class IngestionClient(_Client):
    """Uploads and bulk runs; give the endpoint a deadline as long as a whole ``ingest_path``."""

    _stub_class = ingestion_pb2_grpc.IngestionStub
    _service = ingestion_pb2.DESCRIPTOR.services_by_name["Ingestion"].full_name
    # Upload starts a job and IngestPath a run: a repeat would do the work twice.
    _idempotent = ("GetJob", "ListJobs")
    CHUNK_BYTES = 1024 * 1024

    async def upload(
        self, filename: str, data: bytes, owner: str = "", content_type: str = ""
    ) -> ingestion_pb2.Job:
        """Send ``data`` as a new upload (metadata first, then 1 MiB pieces); the queued job."""
        meta = ingestion_pb2.UploadMetadata(
            filename=filename, content_type=content_type, owner=owner
        )
        messages = [ingestion_pb2.UploadRequest(metadata=meta)]
        messages += [
            ingestion_pb2.UploadRequest(chunk=data[i : i + self.CHUNK_BYTES])
            for i in range(0, len(data), self.CHUNK_BYTES)
        ]
        return await self._unary(self._stub.Upload, iter(messages))

    async def get_job(self, job_id: str, owner: str = "") -> ingestion_pb2.Job:
        request = ingestion_pb2.GetJobRequest(job_id=job_id, owner=owner)
        return await self._unary(self._stub.GetJob, request)

    async def list_jobs(self, owner: str = "", limit: int = 0) -> list[ingestion_pb2.Job]:
        request = ingestion_pb2.ListJobsRequest(owner=owner, limit=limit)
        return list((await self._unary(self._stub.ListJobs, request)).jobs)

    async def ingest_path(self, path: str) -> ingestion_pb2.IngestReport:
        """Ingest a folder the service sees (an absolute path on its side); waits for the end."""
        return await self._unary(self._stub.IngestPath, ingestion_pb2.IngestPathRequest(path=path))


async def health_status(address: str, timeout: float = 1.0, service: str = "") -> str:
    """The grpc.health.v1 status name at ``address`` ("SERVING", "NOT_SERVING", "UNREACHABLE").

    ``address`` is what an address setting holds (see :func:`grpc_target`); with several
    replicas behind it, the answer is one replica's.
    """
    async with grpc.aio.insecure_channel(grpc_target(address)) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.aio.AioRpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
