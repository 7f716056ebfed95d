"""Thin gRPC servicer: proto <-> :class:`RetrievalCore` types, nothing else."""

from __future__ import annotations

import asyncio
import threading

import grpc
import numpy as np

from docent.v1 import retrieval_pb2, retrieval_pb2_grpc
from docentlib.errors import InvalidInput, Unavailable
from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.types import ChunkRecord, DocumentRecord, SearchMode

_MODES = {
    retrieval_pb2.SEARCH_MODE_UNSPECIFIED: SearchMode.HYBRID,
    retrieval_pb2.SEARCH_MODE_HYBRID: SearchMode.HYBRID,
    retrieval_pb2.SEARCH_MODE_DENSE: SearchMode.DENSE,
    retrieval_pb2.SEARCH_MODE_SPARSE: SearchMode.SPARSE,
}


def _document(doc: retrieval_pb2.Document) -> DocumentRecord:
    if not doc.doc_id:
        raise InvalidInput("every document needs a doc_id")
    return DocumentRecord(
        doc_id=doc.doc_id,
        title=doc.title,
        source_path=doc.source_path,
        content_hash=doc.content_hash,
        chunks=tuple(
            ChunkRecord(
                chunk_id=c.chunk_id,
                text=c.text,
                heading_path=tuple(c.heading_path),
                char_start=c.char_start,
                char_end=c.char_end,
                vector=np.asarray(c.vector, dtype=np.float32),
            )
            for c in doc.chunks
        ),
    )


class RetrievalServicer(retrieval_pb2_grpc.RetrievalServicer):
    service_names = (retrieval_pb2.DESCRIPTOR.services_by_name["Retrieval"].full_name,)

    def __init__(self, settings: RetrievalSettings) -> None:
        self.settings = settings
        self.core: RetrievalCore | None = None
        self._stop = threading.Event()  # ends a start-up wait for OpenSearch on shutdown

    def register(self, server: grpc.aio.Server) -> None:
        retrieval_pb2_grpc.add_RetrievalServicer_to_server(self, server)

    async def load(self) -> bool:
        """Open the store; health stays NOT_SERVING meanwhile (for the OpenSearch store that
        includes waiting, with backoff and a bounded total, for the cluster to answer)."""
        self.core = await asyncio.to_thread(RetrievalCore, self.settings, self._stop)
        return True

    async def close(self) -> None:
        self._stop.set()
        if self.core is not None:
            await asyncio.to_thread(self.core.close)
            self.core = None

    def _core(self) -> RetrievalCore:
        if self.core is None:
            raise Unavailable("the index is still loading")
        return self.core

    async def Upsert(self, request, context) -> retrieval_pb2.UpsertResponse:
        core = self._core()
        documents = [_document(d) for d in request.documents]
        docs, chunks = await asyncio.to_thread(core.upsert, documents)
        return retrieval_pb2.UpsertResponse(documents_upserted=docs, chunks_upserted=chunks)

    async def Delete(self, request, context) -> retrieval_pb2.DeleteResponse:
        core = self._core()
        docs, chunks = await asyncio.to_thread(
            core.delete, list(request.doc_ids), list(request.source_paths)
        )
        return retrieval_pb2.DeleteResponse(documents_deleted=docs, chunks_deleted=chunks)

    async def Search(self, request, context) -> retrieval_pb2.SearchResponse:
        core = self._core()
        vector = np.asarray(request.vector, dtype=np.float32) if request.vector else None
        mode = _MODES.get(request.mode)
        if mode is None:
            raise InvalidInput(f"unknown search mode {request.mode}")
        hits, degraded = await asyncio.to_thread(
            core.search_detailed, request.query, vector, request.k, mode
        )
        return retrieval_pb2.SearchResponse(
            degraded=degraded,
            hits=[
                retrieval_pb2.Hit(
                    chunk_id=h.chunk_id,
                    doc_id=h.doc_id,
                    title=h.title,
                    source_path=h.source_path,
                    heading_path=list(h.heading_path),
                    text=h.text,
                    score=h.score,
                    retriever_scores=h.retriever_scores,
                    retriever_ranks=h.retriever_ranks,
                )
                for h in hits
            ],
        )

    async def ListDocuments(self, request, context) -> retrieval_pb2.ListDocumentsResponse:
        core = self._core()
        infos = await asyncio.to_thread(core.list_documents, list(request.doc_ids) or None)
        return retrieval_pb2.ListDocumentsResponse(
            documents=[
                retrieval_pb2.DocumentInfo(
                    doc_id=i.doc_id,
                    title=i.title,
                    source_path=i.source_path,
                    content_hash=i.content_hash,
                    chunk_count=i.chunk_count,
                )
                for i in infos
            ]
        )
