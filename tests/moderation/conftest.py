"""One moderator with the real embedding model and classifier, shared by the module tests."""

from __future__ import annotations

import pytest

from services.moderation.core import Moderator, build_backend, load_similarity
from services.moderation.settings import ModerationSettings


@pytest.fixture(scope="session")
def full_moderator() -> Moderator:
    settings = ModerationSettings()
    return Moderator(settings, build_backend("profanity-check"), load_similarity(settings))
