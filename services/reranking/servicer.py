"""Thin gRPC servicer: proto <-> :class:`Reranker`."""

from __future__ import annotations

import asyncio

import grpc

from docent.v1 import reranking_pb2, reranking_pb2_grpc
from docentlib.errors import Unavailable
from services.reranking.core import Reranker
from services.reranking.settings import RerankingSettings


class RerankingServicer(reranking_pb2_grpc.RerankingServicer):
    service_names = (reranking_pb2.DESCRIPTOR.services_by_name["Reranking"].full_name,)

    def __init__(self, settings: RerankingSettings) -> None:
        self.settings = settings
        self.reranker: Reranker | None = None

    def register(self, server: grpc.aio.Server) -> None:
        reranking_pb2_grpc.add_RerankingServicer_to_server(self, server)

    async def load(self) -> bool:
        self.reranker = await asyncio.to_thread(Reranker.load, self.settings)
        return self.reranker is not None

    async def close(self) -> None:
        self.reranker = None

    async def Rerank(
        self, request: reranking_pb2.RerankRequest, context: grpc.aio.ServicerContext
    ) -> reranking_pb2.RerankResponse:
        if self.reranker is None:
            path = self.settings.resolved_model_path()
            raise Unavailable(f"no cross-encoder loaded from {path}; train one first")
        scores = await asyncio.to_thread(self.reranker.score, request.query, list(request.passages))
        return reranking_pb2.RerankResponse(scores=scores, model_id=self.reranker.model_id)
