"""Which questions are follow-ups, and which earlier question a follow-up refers to."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.gateway.chat.rewrite import (
    FollowUpRewriter,
    content_terms,
    is_follow_up,
    occurrences,
)


def test_follow_ups_are_recognised() -> None:
    for question in (
        "and how do I undo that?",
        "And a StatefulSet?",
        "what about Jobs?",
        "Can I pause it?",
        "why?",
        "tell me more",
    ):
        assert is_follow_up(question), question
    for question in (
        "How do I update the container image of a Deployment?",
        "What is a Pod?",
        "What is the object that holds configuration data for Pods and other workloads?",
    ):
        assert not is_follow_up(question), question


def test_content_terms_and_occurrences() -> None:
    assert content_terms("and how do I undo that?") == ["undo"]
    assert content_terms("Can I pause it?") == ["pause"]
    text = ["Undo the rollout with kubectl rollout undo; it is undone.", "nothing here"]
    assert occurrences(["undo"], text) == 3
    assert occurrences(["rollouts"], text) == 2  # prefix of 5 letters: "rollo"


@dataclass
class Hit:
    doc_id: str
    text: str
    heading_path: list[str] = field(default_factory=list)


class Index:
    """A tiny in-memory index: passages sharing a word with the query, most shared first."""

    def __init__(self, passages: dict[str, str]) -> None:
        self.passages = passages
        self.queries: list[str] = []

    async def search(self, query: str, vector, k: int, mode: str) -> list[Hit]:
        self.queries.append(query)
        words = set(query.lower().replace("?", "").split()) - {"a", "is", "do", "how", "i"}
        shared = {d: len(words & set(p.lower().split())) for d, p in self.passages.items()}
        ranked = sorted((d for d in shared if shared[d]), key=lambda d: -shared[d])
        return [Hit(d, self.passages[d]) for d in ranked][:k]


async def test_the_earlier_question_whose_topic_talks_about_it_wins() -> None:
    index = Index(
        {
            "deployment": "update a deployment image with kubectl set image; undo with "
            "kubectl rollout undo",
            "pod": "a pod is a group of containers",
            "service": "a service exposes pods",
        }
    )
    rewriter = FollowUpRewriter(index)  # type: ignore[arg-type]
    earlier = ["How do I update a Deployment image?", "What is a pod?", "What does a service do?"]
    result = await rewriter.rewrite("and how do I undo that?", earlier)
    assert result.antecedent == earlier[0]
    assert result.query == f"{earlier[0]}\nand how do I undo that?"
    assert len(index.queries) == 6  # each earlier question alone, and with the follow-up


async def test_no_evidence_falls_back_to_the_last_question_and_standalone_stays() -> None:
    index = Index({"pod": "a pod is a group of containers"})
    rewriter = FollowUpRewriter(index)  # type: ignore[arg-type]
    result = await rewriter.rewrite("and can I pause that?", ["What is a Job?", "What is a pod?"])
    assert result.antecedent == "What is a pod?"
    standalone = await rewriter.rewrite("What is a Service?", ["What is a pod?"])
    assert standalone.query == "What is a Service?" and standalone.antecedent is None
    assert (await rewriter.rewrite("and that?", [])).query == "and that?"
