"""Out-of-scope: domain similarity and the retrieval score, together."""

from __future__ import annotations

import pytest

from docentlib.errors import InvalidInput
from services.moderation.core import Moderator, build_backend
from services.moderation.detectors import relevance
from services.moderation.settings import ModerationSettings


def test_relevance_combines_what_is_known() -> None:
    assert relevance(0.4, 0.8, 0.5) == pytest.approx(0.6)
    assert relevance(0.4, None, 0.5) == pytest.approx(0.4)
    assert relevance(None, 0.3, 0.5) == pytest.approx(0.3)
    assert relevance(None, None, 0.5) == 1.0  # nothing to judge by: never decline blind


@pytest.mark.parametrize(
    ("question", "retrieval"),
    [
        ("How do I configure a readiness probe for my web server?", 0.7),
        ("Why is my Pod stuck in CrashLoopBackOff?", 0.6),
        ("What does kubectl apply do with fields I removed from the manifest?", None),
    ],
)
def test_domain_questions_are_in_scope(full_moderator: Moderator, question, retrieval) -> None:
    assert full_moderator.check_scope(question, retrieval).allowed


@pytest.mark.parametrize(
    ("question", "retrieval"),
    [
        ("What wine goes well with grilled salmon?", 0.2),
        ("Who wrote Pride and Prejudice?", 0.25),
        ("How do I get rid of aphids on my roses?", None),
    ],
)
def test_other_questions_are_out_of_scope(full_moderator: Moderator, question, retrieval) -> None:
    verdict = full_moderator.check_scope(question, retrieval)
    assert not verdict.allowed and verdict.reason == "flagged: out_of_scope"
    assert any(e.startswith("relevance") for e in verdict.evidence)


def test_retrieval_score_alone_when_semantics_are_off() -> None:
    moderator = Moderator(ModerationSettings(semantic=False), build_backend("profanity-check"))
    assert moderator.check_scope("anything", 0.7).allowed
    assert not moderator.check_scope("anything", 0.1).allowed
    with pytest.raises(InvalidInput, match="empty"):
        moderator.check_scope("  ", 0.5)
