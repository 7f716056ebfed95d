"""``python -m services.embedding``: settings -> servicer -> server."""

from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(EmbeddingSettings, EmbeddingServicer)
