"""Any sentence-transformers CrossEncoder folder (``head: linear``: one logit per pair)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.reranking.settings import RerankingSettings


class CrossEncoderScorer:
    """A :class:`sentence_transformers.CrossEncoder` as a
    :class:`~services.reranking.scorers.base.PairScorer`.

    Usage::

        scorer = CrossEncoderScorer.load(Path("/models/ms-marco-MiniLM"), RerankingSettings())
        scorer.scores("roll back a deployment", ["kubectl rollout undo ...", "Pods are ..."], 32)
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls, path: Path, settings: RerankingSettings) -> CrossEncoderScorer:
        """The CrossEncoder in ``path``, from local files only."""
        from sentence_transformers import CrossEncoder

        model = CrossEncoder(
            str(path), device=settings.device, max_length=settings.max_length, local_files_only=True
        )
        return cls(model)

    def scores(self, query: str, passages: Sequence[str], batch_size: int) -> list[float]:
        predicted = self._model.predict(
            [(query, p) for p in passages],
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [float(s) for s in predicted]
