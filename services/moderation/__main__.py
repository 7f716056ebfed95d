"""``python -m services.moderation``: settings -> servicer -> server."""

from services.moderation.servicer import ModerationServicer
from services.moderation.settings import ModerationSettings
from services.runtime.server import run

if __name__ == "__main__":
    settings = ModerationSettings()
    run(settings, ModerationServicer(settings))
