"""The FastAPI application: clients and pipeline live on ``app.state`` for the app's lifetime.

Usage::

    app = create_app(GatewaySettings(moderation_timeout_s=0.5))
    # uvicorn.run(app) — or, in tests, ``async with app.router.lifespan_context(app): ...``
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.gateway.errors import install_error_handlers
from services.gateway.middleware import RequestContextMiddleware
from services.gateway.pipeline import ChatPipeline
from services.gateway.routes import chat, health
from services.gateway.settings import GatewaySettings
from services.runtime.tracing import configure_tracing

log = logging.getLogger(__name__)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """A gateway app; settings come from the environment unless given."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_tracing("gateway", settings.otlp_endpoint)
        app.state.settings = settings
        app.state.pipeline = ChatPipeline.from_settings(settings)
        log.info(
            "gateway ready",
            extra={
                "data_dir": str(settings.data_dir),
                **{
                    f"{n}_address": c.endpoint.address
                    for n, c in app.state.pipeline.clients.items()
                },
            },
        )
        try:
            yield
        finally:
            await app.state.pipeline.close()
            log.info("gateway stopped")

    app = FastAPI(
        title="Docent gateway",
        version="0.1.0",
        summary="Answers questions from your documents, with citations.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(chat.router)
    app.include_router(health.router)
    return app
