"""``python -m services.reranking``: settings -> servicer -> server."""

from services.reranking.servicer import RerankingServicer
from services.reranking.settings import RerankingSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(RerankingSettings, RerankingServicer)
