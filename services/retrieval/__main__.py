"""``python -m services.retrieval``: settings -> servicer -> server."""

from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(RetrievalSettings, RetrievalServicer)
