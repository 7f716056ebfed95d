"""The shared support scorer: sentences, content words, lexical and semantic support, verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from docentlib.support import (
    DEFAULT_THRESHOLDS,
    SentenceSupport,
    SupportThresholds,
    content_words,
    judge,
    lexical_support,
    numbers_match,
    semantic_support,
    split_sentences,
    strip_citations,
)

PASSAGE = (
    "Use kubectl rollout undo to roll back a Deployment to its previous revision. "
    "A tag can be up to 128 characters long."
)


class TestSplitSentences:
    def test_prose_is_cut_after_full_stops_but_not_after_abbreviations(self) -> None:
        text = "Pods run containers, e.g. nginx. They share a network. Is it 1.5 GiB? Yes!"
        assert split_sentences(text) == [
            "Pods run containers, e.g. nginx.",
            "They share a network.",
            "Is it 1.5 GiB?",
            "Yes!",
        ]

    def test_list_items_are_claims_of_their_own_and_headings_are_dropped(self) -> None:
        text = "## Steps\nTo roll back:\n- run `kubectl rollout undo`\n* check the history\n1. done"
        assert split_sentences(text) == [
            "To roll back:",
            "run `kubectl rollout undo`",
            "check the history",
            "done",
        ]

    def test_a_code_block_is_one_unit(self) -> None:
        text = "Apply it:\n```yaml\nkind: Pod\nmetadata:\n  name: web\n```\nThen wait."
        assert split_sentences(text) == [
            "Apply it:",
            "kind: Pod\nmetadata:\n  name: web",
            "Then wait.",
        ]

    def test_an_unclosed_code_block_is_kept(self) -> None:
        assert split_sentences("Run:\n```\nkubectl get pods") == ["Run:", "kubectl get pods"]

    def test_citation_markers_stay_with_the_sentence_they_follow(self) -> None:
        text = "Roll back with undo. [2] Check the history [1]. [3]\n[4]"
        assert split_sentences(text) == [
            "Roll back with undo. [2]",
            "Check the history [1]. [3] [4]",
        ]

    def test_text_without_words_has_no_sentences(self) -> None:
        assert split_sentences("") == []
        assert split_sentences("...\n\n- \n[1]") == []


def test_content_words_drop_stop_words_and_keep_compound_names() -> None:
    words = content_words("Use kubectl to set apps/v1 on the kube-proxy of a Pod.")
    assert words == {"kubectl", "set", "apps/v1", "kube-proxy", "pod"}


def test_strip_citations_removes_markers_and_the_space_before_them() -> None:
    assert strip_citations("Roll back [1] with undo [2, 3].") == "Roll back with undo."


def test_lexical_support_is_the_share_of_content_words_in_the_passage() -> None:
    # content words: kubectl, rollout, undo, reverts, deployment -> 4 of 5 in the passage
    assert lexical_support("kubectl rollout undo reverts a Deployment", PASSAGE) == 0.8
    assert lexical_support("the of and", PASSAGE) == 0.0


def test_semantic_support_is_the_best_cosine_over_passage_sentences() -> None:
    rows = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 0.0]])
    assert semantic_support(np.array([0.0, 2.0]), rows) == pytest.approx(0.8)
    assert semantic_support(np.array([1.0, 0.0]), np.zeros((0, 2))) == 0.0


def test_numbers_must_stand_in_the_passage() -> None:
    assert numbers_match("A tag can be 128 characters long.", PASSAGE)
    assert not numbers_match("A tag can be 64 characters long.", PASSAGE)
    assert numbers_match("k8s and apps/v1 carry no standalone number.", PASSAGE)


class TestJudge:
    def test_lexical_only_uses_the_lexical_only_threshold(self) -> None:
        verdict = judge("kubectl rollout undo reverts a Deployment [1].", ["Pods.", PASSAGE])
        assert verdict == SentenceSupport(passage=1, lexical=0.8, semantic=None, supported=True)
        weak = judge("A Deployment scales with replicas and autoscalers.", [PASSAGE])
        assert weak.lexical == 0.25 and not weak.supported  # deployment: 1 of 4

    def test_either_signal_supports_with_embeddings(self) -> None:
        thresholds = SupportThresholds(lexical=0.9, semantic=0.7, lexical_only=0.9)
        vectors = [np.array([[0.6, 0.8]]), np.array([[1.0, 0.0]])]
        verdict = judge(
            "Paraphrase with no shared words.",
            ["Other text.", "Unrelated words here."],
            sentence_vector=np.array([0.6, 0.8]),
            passage_vectors=vectors,
            thresholds=thresholds,
        )
        assert verdict.passage == 0 and verdict.semantic == pytest.approx(1.0)
        assert verdict.supported

    def test_a_changed_number_vetoes_support(self) -> None:
        verdict = judge("A tag can be up to 64 characters long.", [PASSAGE])
        assert verdict.lexical >= DEFAULT_THRESHOLDS.lexical_only and not verdict.supported

    def test_no_passages_support_nothing(self) -> None:
        assert judge("Anything.", []) == SentenceSupport(None, 0.0, None, False)

    def test_vectors_must_match_the_passages(self) -> None:
        with pytest.raises(ValueError, match="1 passage vector sets for 2 passages"):
            judge("x", ["a", "b"], sentence_vector=np.ones(2), passage_vectors=[np.ones((1, 2))])


@pytest.mark.parametrize("field", ["lexical", "semantic", "lexical_only"])
@pytest.mark.parametrize("value", [0.0, -0.1, 1.5])
def test_thresholds_outside_0_1_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{field} threshold must be in"):
        SupportThresholds(**{field: value})
