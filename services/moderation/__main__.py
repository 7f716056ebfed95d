"""``python -m services.moderation``: settings -> servicer -> server."""

from services.moderation.servicer import ModerationServicer
from services.moderation.settings import ModerationSettings
from services.runtime.server import main

if __name__ == "__main__":
    main(ModerationSettings, ModerationServicer)
