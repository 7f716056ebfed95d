"""Thin gRPC servicer: proto <-> :class:`Moderator`."""

from __future__ import annotations

import asyncio

import grpc

from docent.v1 import moderation_pb2, moderation_pb2_grpc
from docentlib.errors import Unavailable
from services.moderation.core import Direction, Moderator, Verdict, build_backend, load_similarity
from services.moderation.settings import ModerationSettings

_DIRECTIONS = {
    moderation_pb2.DIRECTION_UNSPECIFIED: Direction.INPUT,
    moderation_pb2.DIRECTION_INPUT: Direction.INPUT,
    moderation_pb2.DIRECTION_OUTPUT: Direction.OUTPUT,
}


def to_proto(verdict: Verdict) -> moderation_pb2.CheckResponse:
    allow, block = moderation_pb2.DECISION_ALLOW, moderation_pb2.DECISION_BLOCK
    return moderation_pb2.CheckResponse(
        decision=allow if verdict.allowed else block,
        categories=[
            moderation_pb2.CategoryScore(
                category=c.category, score=c.score, threshold=c.threshold, flagged=c.flagged
            )
            for c in verdict.categories
        ],
        reason=verdict.reason,
        evidence=list(verdict.evidence),
    )


class ModerationServicer(moderation_pb2_grpc.ModerationServicer):
    service_names = (moderation_pb2.DESCRIPTOR.services_by_name["Moderation"].full_name,)

    def __init__(self, settings: ModerationSettings) -> None:
        self.settings = settings
        self.moderator: Moderator | None = None

    def register(self, server: grpc.aio.Server) -> None:
        moderation_pb2_grpc.add_ModerationServicer_to_server(self, server)

    async def load(self) -> bool:
        s = self.settings
        backend = await asyncio.to_thread(build_backend, s.toxicity_backend, s)
        similarity = await asyncio.to_thread(load_similarity, s)
        self.moderator = Moderator(s, backend, similarity)
        return True

    async def close(self) -> None:
        self.moderator = None

    def _ready(self) -> Moderator:
        if self.moderator is None:
            raise Unavailable("moderation is still loading")
        return self.moderator

    async def Check(
        self, request: moderation_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> moderation_pb2.CheckResponse:
        moderator = self._ready()
        direction = _DIRECTIONS.get(request.direction, Direction.INPUT)
        return to_proto(await asyncio.to_thread(moderator.check, request.text, direction))

    async def CheckContext(
        self, request: moderation_pb2.CheckContextRequest, context: grpc.aio.ServicerContext
    ) -> moderation_pb2.CheckContextResponse:
        moderator = self._ready()
        score = request.top_retrieval_score if request.HasField("top_retrieval_score") else None
        calibrated = (
            request.retrieval_relevance if request.HasField("retrieval_relevance") else None
        )

        def run() -> tuple[Verdict, list[Verdict]]:
            return (
                moderator.check_scope(request.question, score, calibrated),
                moderator.check_passages(list(request.passages)),
            )

        scope, passages = await asyncio.to_thread(run)
        return moderation_pb2.CheckContextResponse(
            scope=to_proto(scope), passages=[to_proto(v) for v in passages]
        )
