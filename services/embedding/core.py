"""The embedding capability: validated batches in, L2-normalised float32 vectors out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from services.embedding.settings import EmbeddingSettings
from services.runtime.errors import InvalidInput
from services.runtime.models import resolve_model

log = logging.getLogger(__name__)


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` picks bfloat16 where the hardware computes it natively, else float32."""
    if dtype != "auto":
        return dtype
    import torch

    if device.startswith("cuda"):
        return "bfloat16"
    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    return "bfloat16" if native else "float32"


class Embedder:
    """Wraps a sentence-transformers model; load once, then :meth:`embed` from any thread.

    Usage::

        embedder = Embedder.load(EmbeddingSettings())
        vectors = embedder.embed(["How do I roll back a Deployment?"])  # (1, 384)
    """

    def __init__(self, model: object, model_id: str, settings: EmbeddingSettings) -> None:
        self._model = model
        self.model_id = model_id
        self.settings = settings
        self.dim = int(model.get_embedding_dimension())  # type: ignore[attr-defined]
        self.dtype = "float32"
        self._lock = threading.Lock()  # torch is threaded inside; one batch at a time is fastest

    @classmethod
    def load(cls, settings: EmbeddingSettings) -> Embedder:
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        path = resolve_model(settings.model)
        dtype = resolve_dtype(settings.dtype, settings.device)
        model = SentenceTransformer(
            str(path),
            device=settings.device,
            local_files_only=True,
            model_kwargs={"dtype": getattr(torch, dtype)},
        )
        log.info("embedding model loaded", extra={"model": str(path), "dtype": dtype})
        embedder = cls(model, settings.model, settings)
        embedder.dtype = dtype
        return embedder

    def validate(self, texts: Sequence[str]) -> None:
        """Reject what would waste the model's time or return nonsense, naming the problem."""
        if not texts:
            raise InvalidInput("texts must contain at least one text")
        if len(texts) > self.settings.max_batch:
            raise InvalidInput(
                f"at most {self.settings.max_batch} texts per call, got {len(texts)}"
            )
        for i, text in enumerate(texts):
            if not text.strip():
                raise InvalidInput(f"texts[{i}] is empty")
            if len(text) > self.settings.max_text_chars:
                raise InvalidInput(
                    f"texts[{i}] has {len(text)} characters; limit {self.settings.max_text_chars}"
                )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of shape (len(texts), dim), float32, in input order."""
        self.validate(texts)
        with self._lock:
            vectors = self._model.encode(  # type: ignore[attr-defined]
                list(texts),
                batch_size=self.settings.batch_size,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        # Normalise in float32: normalising bf16 outputs leaves norms ~1 +- 0.004.
        matrix = vectors.float().cpu().numpy()
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
