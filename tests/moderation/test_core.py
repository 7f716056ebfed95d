"""The moderation decision with the real alt-profanity-check classifier."""

from __future__ import annotations

import pytest

from docentlib.errors import InvalidInput
from services.moderation.core import Direction, Moderator, build_backend
from services.moderation.settings import ModerationSettings


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator(ModerationSettings(max_text_chars=1000), build_backend("profanity-check"))


@pytest.mark.parametrize(
    "text",
    ["How do I roll back a Deployment?", "Kill the pod and restart the job.", "What is a Service?"],
)
def test_ordinary_questions_pass(moderator: Moderator, text: str) -> None:
    verdict = moderator.check(text, Direction.INPUT)
    assert verdict.allowed and verdict.reason == ""


@pytest.mark.parametrize("text", ["you are a stupid fucking idiot", "shut up you worthless bitch"])
def test_abuse_is_blocked_with_a_reason(moderator: Moderator, text: str) -> None:
    verdict = moderator.check(text, Direction.INPUT)
    assert not verdict.allowed
    assert verdict.reason == "flagged: toxicity"
    assert verdict.categories[0].score >= verdict.categories[0].threshold


def test_threshold_comes_from_settings() -> None:
    strict = Moderator(ModerationSettings(toxicity_threshold=0.0), build_backend("profanity-check"))
    assert not strict.check("hello there", Direction.OUTPUT).allowed


def test_limits_and_unknown_backend(moderator: Moderator) -> None:
    with pytest.raises(InvalidInput, match="limit 1000"):
        moderator.check("a" * 1001, Direction.INPUT)
    with pytest.raises(InvalidInput, match="profanity-check"):
        build_backend("nope")
    assert moderator.check("   ", Direction.INPUT).allowed
