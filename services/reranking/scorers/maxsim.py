"""Our late-interaction cross-encoder (``head: maxsim``), what ``docent train reranker`` writes.

The model and its scoring live in :mod:`docentlib.maxsim`, shared with training, so serving
scores exactly as training did; :class:`~docentlib.maxsim.MaxSimCrossEncoder` already is a
:class:`~services.reranking.scorers.base.PairScorer`.
"""

from __future__ import annotations

from pathlib import Path

from docentlib.maxsim import MaxSimCrossEncoder
from services.reranking.scorers.base import PairScorer
from services.reranking.settings import RerankingSettings


def load(path: Path, settings: RerankingSettings) -> PairScorer:
    """The MaxSim model in ``path``, from local files only."""
    return MaxSimCrossEncoder.load(path, settings.max_length, settings.device)
