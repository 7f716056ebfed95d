"""Ingestion throughput: the Kubernetes docs through real embedding and retrieval servers.

Starts both services in this process on free loopback ports (real models, real gRPC), ingests
``--limit`` pages of ``../shared/data/kubernetes-docs/docs`` with a progress bar, re-ingests them
to time the unchanged-skip path, and writes docs/s and chunks/s to ``bench/out/ingest.json``.

    python -m bench.ingest_throughput --limit 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.ingestion.ingest import Ingestor
from services.ingestion.settings import IngestSettings
from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime import server

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT.parent / "shared" / "data" / "kubernetes-docs" / "docs"


def _subset(limit: int, into: Path) -> Path:
    pages = sorted(DOCS.rglob("*.md"))[:limit]
    for page in pages:
        target = into / page.relative_to(DOCS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(page)
    return into


async def run(limit: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix="docent-bench-"))
    os.environ["DOCENT_HOME"] = str(home)
    apps = []
    for settings, app in (
        (s := EmbeddingSettings(port=0, metrics_port=0), EmbeddingServicer(s)),
        (r := RetrievalSettings(port=0, metrics_port=0), RetrievalServicer(r)),
    ):
        running = await server.start(settings, app)
        await app.load()
        apps.append((running, app))
    ingest = IngestSettings(
        embedding_address=f"127.0.0.1:{apps[0][0].port}",
        retrieval_address=f"127.0.0.1:{apps[1][0].port}",
    )
    corpus = _subset(limit, home / "corpus")
    ingestor = Ingestor(ingest)
    try:
        first = await ingestor.run(corpus)
        start = time.perf_counter()
        second = await ingestor.run(corpus, progress=False)
        skip_seconds = time.perf_counter() - start
    finally:
        await ingestor.close()
        for running, app in apps:
            await server.stop(running, app, 1.0)
        shutil.rmtree(home, ignore_errors=True)
    return {
        "pages": first.files,
        "ingested": first.ingested,
        "failed": len(first.failed),
        "chunks": first.chunks,
        "seconds": round(first.seconds, 2),
        "docs_per_s": round(first.ingested / first.seconds, 2),
        "chunks_per_s": round(first.chunks / first.seconds, 2),
        "reingest_unchanged": second.unchanged,
        "reingest_seconds": round(skip_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1672, help="pages to ingest")
    args = parser.parse_args()
    result = asyncio.run(run(args.limit))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
