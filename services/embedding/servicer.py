"""Thin gRPC servicer: proto <-> :class:`Embedder`, nothing else."""

from __future__ import annotations

import asyncio

import grpc

from docent.v1 import embedding_pb2, embedding_pb2_grpc
from docentlib.errors import Unavailable
from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings


class EmbeddingServicer(embedding_pb2_grpc.EmbeddingServicer):
    service_names = (embedding_pb2.DESCRIPTOR.services_by_name["Embedding"].full_name,)

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.embedder: Embedder | None = None

    def register(self, server: grpc.aio.Server) -> None:
        embedding_pb2_grpc.add_EmbeddingServicer_to_server(self, server)

    async def load(self) -> bool:
        self.embedder = await asyncio.to_thread(Embedder.load, self.settings)
        return True

    async def close(self) -> None:
        self.embedder = None

    async def Embed(
        self, request: embedding_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> embedding_pb2.EmbedResponse:
        if self.embedder is None:
            raise Unavailable("embedding model is still loading")
        vectors = await asyncio.to_thread(self.embedder.embed, list(request.texts))
        return embedding_pb2.EmbedResponse(
            vectors=[embedding_pb2.Vector(values=v.tolist()) for v in vectors],
            model_id=self.embedder.model_id,
            dim=self.embedder.dim,
        )
