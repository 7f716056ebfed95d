"""``python -m services.ingestion.bulk PATH``: ingest a whole folder once, in this process.

For a Kubernetes Job over a volume (docs/deploy.md): the ingestion image, the knowledge base
mounted at PATH, the same ``DOCENT_INGEST_*`` settings as the service; it talks to embedding
and retrieval directly, so the volume need not be mounted in the ingestion Deployment. Prints
the report (one line, then JSON); exits 1 when a dependency failed, 0 otherwise (files that
could not be parsed are listed in the report).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from docentlib.errors import DocentError
from services.ingestion.ingest import Ingestor, IngestReport
from services.ingestion.settings import IngestSettings
from services.runtime.logging import configure_logging
from services.runtime.settings import load_settings


async def ingest(path: Path, settings: IngestSettings) -> IngestReport:
    ingestor = Ingestor(settings)
    try:
        return await ingestor.run(path, progress=False)
    finally:
        await ingestor.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).exists():
        print("usage: python -m services.ingestion.bulk PATH (an existing folder or file)")
        return 2
    settings = load_settings(IngestSettings)
    configure_logging("ingestion", settings.log_level, settings.log_json)
    try:
        report = asyncio.run(ingest(Path(argv[0]), settings))
    except DocentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    print(json.dumps(report.__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
