"""Probes and metrics: ``/healthz`` (alive), ``/readyz`` (dependencies serve), ``/metrics``."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from services.gateway.chat.pipeline import ChatPipeline

router = APIRouter()

REQUIRED = ("embedding", "retrieval", "moderation", "generation")
OPTIONAL = ("reranking",)  # serves only once a cross-encoder is trained; chat degrades without it
# Uploads need the ingestion service, chat does not: while it is down uploads fail with 503
# and the gateway stays ready.
UPLOADS = "ingestion"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers; says nothing about dependencies."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    dependencies: dict[str, Literal["SERVING", "NOT_SERVING"]]
    not_ready: list[str] = Field(description="Required dependencies that are not serving.")
    optional: list[str] = Field(description="Dependencies the gateway works without.")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A required dependency is not serving."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when every required dependency is SERVING; 503 listing those that are not."""
    pipeline: ChatPipeline = request.app.state.pipeline
    clients = pipeline.clients
    clients = {**clients, UPLOADS: request.app.state.ingestion}
    names = [*REQUIRED, *OPTIONAL, UPLOADS]
    timeout = pipeline.settings.readiness_timeout_s
    serving = await asyncio.gather(*(clients[n].serving(timeout=timeout) for n in names))
    states = {n: "SERVING" if ok else "NOT_SERVING" for n, ok in zip(names, serving, strict=True)}
    not_ready = [n for n in REQUIRED if states[n] != "SERVING"]
    body = {
        "status": "not_ready" if not_ready else "ready",
        "dependencies": states,
        "not_ready": not_ready,
        "optional": [*OPTIONAL, UPLOADS],
    }
    return JSONResponse(body, status_code=503 if not_ready else 200)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    """Prometheus text exposition of this process's registry."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
