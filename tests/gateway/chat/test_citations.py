"""Attributed citations for answers whose model wrote no [n] markers."""

from __future__ import annotations

from docentlib.support import content_words
from services.gateway.chat.prompt import extract_citations
from services.gateway.chat.sources import attribute, citation_suffix

PASSAGES = [
    "A ReplicaSet maintains a stable set of replica Pods running at any given time.",
    "Use kubectl rollout undo deployment/nginx-deployment to roll back to the previous revision. "
    "Check the rollout history with kubectl rollout history.",
    "StatefulSet is the workload API object used to manage stateful applications.",
]


def test_content_words_drop_stop_words_and_keep_commands() -> None:
    words = content_words("Use kubectl rollout undo to roll back the Deployment.")
    assert {"kubectl", "rollout", "undo", "roll", "back", "deployment"} <= words
    assert "the" not in words and "to" not in words


def test_the_supporting_passage_is_cited_first() -> None:
    answer = "Run kubectl rollout undo to roll back the Deployment to its previous revision."
    assert attribute(answer, PASSAGES)[0] == 2


def test_an_unrelated_answer_cites_nothing() -> None:
    assert attribute("Bananas are rich in potassium and taste sweet.", PASSAGES) == []
    assert attribute("", PASSAGES) == []


def test_suffix_round_trips_through_citation_extraction() -> None:
    suffix = citation_suffix([2, 1])
    assert suffix == " [2][1]"
    assert extract_citations("An answer." + suffix, 3) == [2, 1]
    assert citation_suffix([]) == ""
