"""Real embedding, retrieval and ingestion servers on loopback, for ingestion and upload tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.ingestion.servicer import IngestionServicer
from services.ingestion.settings import IngestSettings
from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime import server as runtime_server
from services.runtime.server import ServiceApp


@dataclass(frozen=True)
class Backends:
    embedding: str
    retrieval: str

    def ingest_settings(self, data_dir: Path, **overrides: object) -> IngestSettings:
        """Ingestion settings pointing at these servers, with its state under ``data_dir``."""
        return IngestSettings(
            embedding_address=self.embedding,
            retrieval_address=self.retrieval,
            data_dir=data_dir,
            port=0,
            metrics_port=0,
            **overrides,
        )


@asynccontextmanager
async def started(*apps: ServiceApp) -> AsyncIterator[list[str]]:
    """Start and load ``apps`` (each with ``settings``) on free ports; stop them on exit."""
    running = []
    try:
        for app in apps:
            settings = app.settings  # type: ignore[attr-defined]
            settings = settings.model_copy(update={"port": 0, "metrics_port": 0})
            running.append((await runtime_server.start(settings, app), app))
            await app.load()
            await runtime_server.mark_ready(running[-1][0], app)
        yield [f"127.0.0.1:{r.port}" for r, _ in running]
    finally:
        for r, app in reversed(running):
            await runtime_server.stop(r, app, grace=0)


@asynccontextmanager
async def backends(data: Path) -> AsyncIterator[Backends]:
    """Real embedding and retrieval servers (the retrieval index under ``data``)."""
    apps = (
        EmbeddingServicer(EmbeddingSettings(port=0, metrics_port=0)),
        RetrievalServicer(RetrievalSettings(port=0, metrics_port=0, data_dir=data)),
    )
    async with started(*apps) as (embedding, retrieval):
        yield Backends(embedding, retrieval)


@asynccontextmanager
async def ingestion(settings: IngestSettings) -> AsyncIterator[str]:
    """A real ingestion server with ``settings``; yields its address."""
    async with started(IngestionServicer(settings)) as (address,):
        yield address
