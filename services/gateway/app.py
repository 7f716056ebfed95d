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

from services.gateway.access.auth import Auth
from services.gateway.access.ratelimit import RateLimitHeadersMiddleware
from services.gateway.agent import routes as agent_routes
from services.gateway.agent.factory import build_agent
from services.gateway.agent.settings import AgentSettings
from services.gateway.chat import routes as chat_routes
from services.gateway.chat.pipeline import ChatPipeline
from services.gateway.conversations import routes as conversation_routes
from services.gateway.documents import routes as document_routes
from services.gateway.http import health
from services.gateway.http.errors import install_error_handlers
from services.gateway.http.middleware import RequestContextMiddleware
from services.gateway.http.openapi import install_common_errors
from services.gateway.openai import routes as openai_routes
from services.gateway.review import routes as review_routes
from services.gateway.review.service import ReviewService
from services.gateway.settings import GatewaySettings
from services.gateway.web import routes as web_routes
from services.runtime.clients import IngestionClient
from services.runtime.tracing import configure_tracing

log = logging.getLogger(__name__)


def create_app(
    settings: GatewaySettings | None = None,
    pipeline_class: type[ChatPipeline] = ChatPipeline,
    agent_settings: AgentSettings | None = None,
) -> FastAPI:
    """A gateway app; settings come from the environment unless given.

    ``pipeline_class`` lets a test serve a pipeline with stages of its own over the real app.
    """
    settings = settings or GatewaySettings()
    agent_settings = agent_settings or AgentSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_tracing("gateway", settings.otlp_endpoint)
        app.state.settings = settings
        app.state.pipeline = pipeline_class.from_settings(settings)
        app.state.pipeline.scope.start()  # calibrate the out-of-scope scale in the background
        app.state.agent = build_agent(agent_settings, app.state.pipeline)
        app.state.auth = Auth.from_settings(settings)
        app.state.review = ReviewService.open(settings)
        retry, breaker = settings.resilience("ingestion")
        app.state.ingestion = IngestionClient(
            settings.endpoint("ingestion"), retry=retry, breaker=breaker
        )
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
            await app.state.ingestion.close()
            await app.state.auth.close()
            await app.state.review.close()
            if app.state.agent is not None:
                await app.state.agent.close()
            await app.state.pipeline.close()
            log.info("gateway stopped")

    app = FastAPI(
        title="Docent gateway",
        version="0.1.0",
        summary="Answers questions from your documents, with citations.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_common_errors(app)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    for router in (
        chat_routes.router,
        agent_routes.router,
        health.router,
        conversation_routes.router,
        document_routes.router,
        web_routes.router,
        openai_routes.router,
        review_routes.router,
    ):
        app.include_router(router)
    return app
