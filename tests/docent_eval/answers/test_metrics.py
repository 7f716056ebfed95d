"""Answer scores against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from docent_eval.answers.metrics import (
    SupportJudge,
    answer_sentences,
    cited_numbers,
    must_contain_share,
    token_f1,
)


def test_must_contain_share_ignores_case_and_counts_each_term() -> None:
    answer = "Run kubectl ROLLOUT UNDO deployment/web [1]."
    assert must_contain_share(answer, ["rollout undo", "--to-revision"]) == 0.5
    assert must_contain_share(answer, ["rollout undo"]) == 1.0
    assert must_contain_share(answer, []) is None


def test_token_f1_by_hand() -> None:
    # answer tokens: the pod restarts (3); reference: the pod is restarted (4)
    # common: the, pod -> 2; precision 2/3, recall 2/4; F1 = 2*(2/3*1/2)/(2/3+1/2) = 4/7
    assert token_f1("The pod restarts [2].", "The pod is restarted") == pytest.approx(4 / 7)
    assert token_f1("nothing shared", "The pod") == 0.0
    assert token_f1("anything", "  ") is None


def test_sentences_drop_the_extractive_prefix_and_keep_markers() -> None:
    text = "From the sources: A Pod is the smallest unit [1]. It runs containers [2]."
    assert answer_sentences(text) == ["A Pod is the smallest unit [1].", "It runs containers [2]."]


def test_cited_numbers_in_order_without_repeats() -> None:
    assert cited_numbers("Use X [2][1, 2] and Y [3].") == [2, 1, 3]
    assert cited_numbers("No markers.") == []


PASSAGES = [
    "A Deployment manages ReplicaSets and rolls out new Pods gradually.",
    "Use kubectl rollout undo to roll a Deployment back to its previous revision.",
]


def test_support_and_citation_precision_lexical() -> None:
    judge = SupportJudge()  # lexical only: deterministic
    sentences = [
        "Use kubectl rollout undo to roll the Deployment back to its previous revision [2].",
        "Use kubectl rollout undo to roll the Deployment back to its previous revision [1].",
        "Bananas are yellow fruit grown in tropical countries.",
        "Rolls out new Pods gradually [5].",
    ]
    assert judge.verdicts(sentences, PASSAGES) == [True, True, False, True]
    support = judge.support(sentences, PASSAGES)
    assert (support.sentences, support.supported, support.share) == (4, 3, 0.75)
    # pairs: (s1, 2) supported; (s2, 1) passage 1 alone does not support it; (s4, 5) no
    # such passage: 1 of 3
    assert judge.citation_precision(sentences, PASSAGES) == (1, 3)


def test_no_passages_support_nothing() -> None:
    judge = SupportJudge()
    assert judge.verdicts(["Anything at all."], []) == [False]
    assert judge.support([], PASSAGES).share is None


def test_semantic_support_uses_the_embedding_function() -> None:
    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        vectors = np.ones((len(texts), 4), np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    judge = SupportJudge(embed)
    # identical unit vectors: cosine 1 supports a sentence with no word in common
    assert judge.verdicts(["Zebras gallop."], PASSAGES) == [True]
    assert calls == [1 + 2]  # one call: the sentence and each passage's one sentence
