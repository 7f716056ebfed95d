"""Thin gRPC servicer: proto <-> :class:`Moderator`."""

from __future__ import annotations

import asyncio

import grpc

from docent.v1 import moderation_pb2, moderation_pb2_grpc
from services.moderation.core import Direction, Moderator, build_backend
from services.moderation.settings import ModerationSettings
from services.runtime.errors import Unavailable

_DIRECTIONS = {
    moderation_pb2.DIRECTION_UNSPECIFIED: Direction.INPUT,
    moderation_pb2.DIRECTION_INPUT: Direction.INPUT,
    moderation_pb2.DIRECTION_OUTPUT: Direction.OUTPUT,
}


class ModerationServicer(moderation_pb2_grpc.ModerationServicer):
    service_names = (moderation_pb2.DESCRIPTOR.services_by_name["Moderation"].full_name,)

    def __init__(self, settings: ModerationSettings) -> None:
        self.settings = settings
        self.moderator: Moderator | None = None

    def register(self, server: grpc.aio.Server) -> None:
        moderation_pb2_grpc.add_ModerationServicer_to_server(self, server)

    async def load(self) -> bool:
        backend = await asyncio.to_thread(build_backend, self.settings.toxicity_backend)
        self.moderator = Moderator(self.settings, backend)
        return True

    async def close(self) -> None:
        self.moderator = None

    async def Check(
        self, request: moderation_pb2.CheckRequest, context: grpc.aio.ServicerContext
    ) -> moderation_pb2.CheckResponse:
        if self.moderator is None:
            raise Unavailable("moderation is still loading")
        direction = _DIRECTIONS.get(request.direction, Direction.INPUT)
        verdict = await asyncio.to_thread(self.moderator.check, request.text, direction)
        return moderation_pb2.CheckResponse(
            decision=moderation_pb2.DECISION_ALLOW
            if verdict.allowed
            else moderation_pb2.DECISION_BLOCK,
            categories=[
                moderation_pb2.CategoryScore(
                    category=c.category, score=c.score, threshold=c.threshold, flagged=c.flagged
                )
                for c in verdict.categories
            ],
            reason=verdict.reason,
        )
