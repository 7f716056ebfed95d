"""``python -m services.ingestion``: settings -> servicer -> server."""

from services.ingestion.servicer import IngestionServicer
from services.ingestion.settings import IngestSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(IngestSettings, IngestionServicer)
