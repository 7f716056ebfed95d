"""``python -m services.embedding``: settings -> servicer -> server."""

from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.runtime.server import run

if __name__ == "__main__":
    settings = EmbeddingSettings()
    run(settings, EmbeddingServicer(settings))
