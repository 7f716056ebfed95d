"""The reranking capability: one relevance score per (query, passage) pair."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from docentlib.errors import InvalidInput
from docentlib.maxsim import head_of
from docentlib.precision import resolve_dtype
from docentlib.registry import Registry
from services.reranking.scorers.base import PairScorer, ScorerLoader
from services.reranking.settings import RerankingSettings

log = logging.getLogger(__name__)

# Keyed by the head a model folder declares (docentlib.maxsim.head_of: its docent_reranker.json,
# else "linear"); imported lazily, so only the chosen kind's library loads.
SCORERS: Registry[ScorerLoader] = Registry(
    "reranker head",
    {
        "maxsim": "services.reranking.scorers.maxsim:load",
        "linear": "services.reranking.scorers.cross_encoder:CrossEncoderScorer.load",
    },
)


def has_model(path: Path) -> bool:
    """True when ``path`` holds a loadable transformers model (config plus weights)."""
    weights = ("model.safetensors", "pytorch_model.bin")
    return (path / "config.json").is_file() and any((path / w).is_file() for w in weights)


class Reranker:
    """A loaded cross-encoder: our MaxSim-head model (:mod:`docentlib.maxsim`, what
    ``docent train reranker`` writes) or any sentence-transformers CrossEncoder folder, chosen
    once at load from the head the folder declares.

    Usage::

        reranker = Reranker.load(RerankingSettings(model_path="/models/reranker"))
        reranker.score("roll back a deployment", ["kubectl rollout undo ...", "Pods are ..."])
    """

    def __init__(self, scorer: PairScorer, model_id: str, settings: RerankingSettings) -> None:
        self._scorer = scorer
        self.model_id = model_id
        self.settings = settings
        self._lock = threading.Lock()
        # Decided once: the device's bf16 support does not change between requests.
        self._autocast_device = settings.device.split(":")[0]
        self._bf16 = resolve_dtype(settings.dtype, settings.device) == "bfloat16"

    @classmethod
    def load(cls, settings: RerankingSettings) -> Reranker | None:
        """The cross-encoder at the configured path, or None when none has been trained yet.

        :raises InvalidInput: when the folder declares a head no scorer is registered for.
        """
        path = settings.resolved_model_path()
        if not has_model(path):
            log.warning(
                "no cross-encoder found; staying NOT_SERVING (train one: docent train reranker)",
                extra={"model_path": str(path)},
            )
            return None
        head = head_of(path)
        load_scorer = SCORERS.get(head)
        import torch

        if settings.threads:
            torch.set_num_threads(settings.threads)
        scorer = load_scorer(path, settings)
        log.info("cross-encoder loaded", extra={"model_path": str(path), "head": head})
        return cls(scorer, path.name, settings)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """Relevance of each passage to ``query`` (higher is better), in input order."""
        if not query.strip():
            raise InvalidInput("query is empty")
        if len(passages) > self.settings.max_passages:
            raise InvalidInput(
                f"at most {self.settings.max_passages} passages per call, got {len(passages)}"
            )
        if not passages:
            return []
        import torch

        autocast = torch.autocast(self._autocast_device, dtype=torch.bfloat16, enabled=self._bf16)
        with self._lock, autocast:
            return self._scorer.scores(query, passages, self.settings.batch_size)
