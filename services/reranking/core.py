"""The reranking capability: one relevance score per (query, passage) pair."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from docentlib.errors import InvalidInput
from docentlib.maxsim import MaxSimCrossEncoder, head_of
from docentlib.models import resolve_model
from docentlib.precision import resolve_dtype
from services.reranking.settings import RerankingSettings

log = logging.getLogger(__name__)


def has_model(path: Path) -> bool:
    """True when ``path`` holds a loadable transformers model (config plus weights)."""
    weights = ("model.safetensors", "pytorch_model.bin")
    return (path / "config.json").is_file() and any((path / w).is_file() for w in weights)


class Reranker:
    """A loaded cross-encoder: our MaxSim-head model (:mod:`docentlib.maxsim`, what
    ``docent train reranker`` writes) or any sentence-transformers CrossEncoder folder.

    Usage::

        reranker = Reranker.load(RerankingSettings(model_path="/models/reranker"))
        reranker.score("roll back a deployment", ["kubectl rollout undo ...", "Pods are ..."])
    """

    def __init__(self, model: object, model_id: str, settings: RerankingSettings) -> None:
        self._model = model
        self.model_id = model_id
        self.settings = settings
        self._lock = threading.Lock()
        # Decided once: the device's bf16 support does not change between requests.
        self._autocast_device = settings.device.split(":")[0]
        self._bf16 = resolve_dtype(settings.dtype, settings.device) == "bfloat16"

    @classmethod
    def load(cls, settings: RerankingSettings) -> Reranker | None:
        """The cross-encoder at the configured path; else ``default_model`` with the MaxSim
        head (ranks without training); None when neither is there."""
        path = settings.resolved_model_path()
        if not has_model(path):
            return cls._load_default(settings, path)
        import torch

        if settings.threads:
            torch.set_num_threads(settings.threads)
        head = head_of(path)
        if head == "maxsim":
            model: object = MaxSimCrossEncoder.load(path, settings.max_length, settings.device)
        else:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(
                str(path),
                device=settings.device,
                max_length=settings.max_length,
                local_files_only=True,
            )
        log.info("cross-encoder loaded", extra={"model_path": str(path), "head": head})
        return cls(model, path.name, settings)

    @classmethod
    def _load_default(cls, settings: RerankingSettings, trained: Path) -> Reranker | None:
        if not settings.default_model:
            log.warning(
                "no cross-encoder found; staying NOT_SERVING (train one: docent train reranker)",
                extra={"model_path": str(trained)},
            )
            return None
        import torch

        if settings.threads:
            torch.set_num_threads(settings.threads)
        path = resolve_model(settings.default_model)
        model = MaxSimCrossEncoder.load(path, settings.max_length, settings.device)
        log.info(
            "no trained cross-encoder; serving the default model with the MaxSim head",
            extra={"model_path": str(trained), "default_model": settings.default_model},
        )
        return cls(model, f"{Path(settings.default_model).name}+maxsim", settings)

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
            if isinstance(self._model, MaxSimCrossEncoder):
                return self._model.scores(query, passages, self.settings.batch_size)
            scores = self._model.predict(  # type: ignore[attr-defined]
                [(query, p) for p in passages],
                batch_size=self.settings.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [float(s) for s in scores]
