"""Probes and metrics: ``/healthz`` (alive), ``/readyz`` (can serve), ``/metrics``."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from services.gateway.chat.pipeline import ChatPipeline

router = APIRouter()

DEPENDENCIES = ("embedding", "retrieval", "reranking", "moderation", "generation", "ingestion")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and its event loop answers; says nothing about dependencies."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    store: Literal["ok", "unavailable"] = Field(
        description="The gateway's own state (keys, conversations, rate limits: SQLite or Redis)."
    )
    dependencies: dict[str, Literal["SERVING", "NOT_SERVING"]]
    degraded: list[str] = Field(
        description="Dependencies not serving right now: answers degrade (flagged in metadata) "
        "or fail with 503 dependency_unavailable, but the gateway stays in its Service."
    )


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The gateway's own store is unavailable."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 while this gateway can serve: its own store answers. Dependencies are reported, not
    required: a retrieval or reranker restart must not pull every gateway pod out of the Service
    (each gRPC client balances over the ready replicas of its dependency by itself)."""
    pipeline: ChatPipeline = request.app.state.pipeline
    clients = {**pipeline.clients, "ingestion": request.app.state.ingestion}
    timeout = pipeline.settings.readiness_timeout_s
    store_ok, *serving = await asyncio.gather(
        _store_answers(request, timeout),
        *(clients[n].serving(timeout=timeout) for n in DEPENDENCIES),
    )
    states = {
        n: "SERVING" if ok else "NOT_SERVING" for n, ok in zip(DEPENDENCIES, serving, strict=True)
    }
    body = {
        "status": "ready" if store_ok else "not_ready",
        "store": "ok" if store_ok else "unavailable",
        "dependencies": states,
        "degraded": [n for n in DEPENDENCIES if states[n] != "SERVING"],
    }
    return JSONResponse(body, status_code=200 if store_ok else 503)


async def _store_answers(request: Request, timeout: float) -> bool:
    """One cheap read of the key store (the first thing every keyed request needs)."""
    keys = request.app.state.auth.keys
    try:
        await asyncio.wait_for(asyncio.to_thread(keys.any_active), timeout)
    except Exception:  # any failure means the store cannot serve requests now
        return False
    return True


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    """Prometheus text exposition of this process's registry."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
