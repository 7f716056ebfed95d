"""Toxicity from ``alt-profanity-check``: a linear SVM, fast and offline."""

from __future__ import annotations

from collections.abc import Sequence


class ProfanityCheckBackend:
    """Single category ``toxicity`` from the SVM's calibrated probability."""

    name = "profanity-check"

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        return [{"toxicity": float(p)} for p in self._predict_prob(list(texts))]
