"""``python -m services.generation``: settings -> servicer -> server."""

from services.generation.servicer import GenerationServicer
from services.generation.settings import GenerationSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(GenerationSettings, GenerationServicer)
