"""``python -m services.retrieval``: settings -> servicer -> server."""

from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime.server import run

if __name__ == "__main__":
    settings = RetrievalSettings()
    run(settings, RetrievalServicer(settings))
