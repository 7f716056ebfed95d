"""Toxicity from ``alt-profanity-check``: a linear SVM, fast and offline."""

from __future__ import annotations

from collections.abc import Sequence

from services.moderation.settings import ModerationSettings


class ProfanityCheckBackend:
    """Single category ``toxicity`` from the SVM's calibrated probability."""

    name = "profanity-check"

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    @classmethod
    def from_settings(cls, settings: ModerationSettings) -> ProfanityCheckBackend:
        """The registry's factory; the SVM has nothing to configure."""
        return cls()

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        return [{"toxicity": float(p)} for p in self._predict_prob(list(texts))]
