"""Out-of-scope: the gateway's calibrated retrieval relevance, widened by a description."""

from __future__ import annotations

import pytest

from docentlib.errors import InvalidInput
from services.moderation.core import Moderator, build_backend, load_similarity
from services.moderation.detectors import relevance
from services.moderation.settings import ModerationSettings

DESCRIPTION = "Kubernetes clusters, Pods and containers\nDeployments, Services and networking"


def test_relevance_combines_what_is_known() -> None:
    assert relevance(0.4, 0.8, 0.5) == pytest.approx(0.6)
    assert relevance(0.4, None, 0.5) == pytest.approx(0.4)
    assert relevance(None, 0.3, 0.5) == pytest.approx(0.3)
    assert relevance(None, None, 0.5) == 1.0  # nothing to judge by: never decline blind


def test_calibrated_relevance_decides_without_a_description(full_moderator: Moderator) -> None:
    assert full_moderator.check_scope("How do I start the stack?", 0.31, 0.9).allowed
    verdict = full_moderator.check_scope("Who wrote Pride and Prejudice?", 0.2, 0.05)
    assert not verdict.allowed and verdict.reason == "flagged: out_of_scope"
    assert "retrieval relevance 0.050" in verdict.evidence


def test_nothing_known_is_never_declined(full_moderator: Moderator) -> None:
    assert full_moderator.check_scope("How do I get rid of aphids on my roses?", None).allowed


@pytest.fixture(scope="module")
def described() -> Moderator:
    settings = ModerationSettings(domain_description=DESCRIPTION)
    return Moderator(settings, build_backend("profanity-check"), load_similarity(settings))


def test_a_description_widens_the_scope(described: Moderator) -> None:
    # Low retrieval relevance (say, the page is not ingested yet), but the operator's
    # description covers it: in scope.
    assert described.check_scope("How do I expose my Pods with a Service?", 0.2, 0.0).allowed
    # ... and it never narrows it: a question the corpus answers stays in scope.
    assert described.check_scope("Who wrote Pride and Prejudice?", 0.6, 1.0).allowed
    assert not described.check_scope("What wine goes well with grilled salmon?", 0.2, 0.0).allowed


def test_retrieval_score_alone_when_semantics_are_off() -> None:
    moderator = Moderator(ModerationSettings(semantic=False), build_backend("profanity-check"))
    assert moderator.check_scope("anything", 0.7).allowed
    assert not moderator.check_scope("anything", 0.1).allowed
    with pytest.raises(InvalidInput, match="empty"):
        moderator.check_scope("  ", 0.5)
