"""A gateway on a real uvicorn server, with scripted dependencies, in a thread of its own.

For synchronous clients (schemathesis, blocking HTTP libraries) that would otherwise block the
event loop the server needs; async tests use :func:`tests.gateway.conftest.served` instead.
Uploads go to a real ingestion service whose embedding and retrieval are the scripted fakes.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.conftest import free_port
from tests.gateway.fakes import Script, start_fake
from tests.ingestion.backends import Backends, ingestion

REQUIRED = ("moderation", "embedding", "retrieval", "generation")


@contextmanager
def threaded_gateway(script: Script, **overrides: object) -> Iterator[str]:
    """Yield the base URL of a gateway whose dependencies (but the reranker) are fakes."""
    port = free_port()
    ready, failed = threading.Event(), []
    holder: dict[str, uvicorn.Server] = {}

    async def main() -> None:
        fake, address = await start_fake(script, REQUIRED)
        state = tempfile.TemporaryDirectory(prefix="ingestion-")
        ingest = Backends(address, address).ingest_settings(Path(state.name))
        async with ingestion(ingest) as uploads:
            settings = GatewaySettings(
                **{f"{n}_address": address for n in REQUIRED},
                reranking_address=f"127.0.0.1:{free_port()}",
                ingestion_address=uploads,
                **overrides,
            )
            config = uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=port, log_level="warning"
            )
            server = holder["server"] = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.02)
            ready.set()
            try:
                await serving
            finally:
                await fake.stop(0)
        state.cleanup()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the test below
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="gateway", daemon=True)
    thread.start()
    ready.wait(30)
    if failed:
        raise RuntimeError("the gateway did not start") from failed[0]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["server"].should_exit = True
        thread.join(30)
