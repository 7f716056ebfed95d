"""The embedding capability: validated batches in, L2-normalised float32 vectors out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from docentlib.errors import InvalidInput
from docentlib.models import resolve_model
from docentlib.precision import resolve_dtype
from services.embedding.settings import EmbeddingSettings

log = logging.getLogger(__name__)


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run a small call on one thread. A query is too small to split, and when the cores are
    busy with other work torch's threads wait on each other at every operator: a one-line
    query took ~490 ms on two threads and ~16 ms on one on a loaded 2-core machine."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Wraps a sentence-transformers model; load once, then :meth:`embed` from any thread.

    Usage::

        embedder = Embedder.load(EmbeddingSettings())
        vectors = embedder.embed(["How do I roll back a Deployment?"])  # (1, 384)
    """

    def __init__(
        self,
        model: object,
        model_id: str,
        settings: EmbeddingSettings,
        batch_model: object | None = None,
        dtype: str = "float32",
    ) -> None:
        self._model = model  # float32: every call below min_batch_for_bf16 texts
        self._batch_model = batch_model  # bf16 copy for large batches, when enabled
        self.model_id = model_id
        self.settings = settings
        self.dim = int(model.get_embedding_dimension())  # type: ignore[attr-defined]
        self.dtype = dtype
        self._lock = threading.Lock()  # torch is threaded inside; one batch at a time is fastest

    @classmethod
    def load(cls, settings: EmbeddingSettings) -> Embedder:
        import torch
        from sentence_transformers import SentenceTransformer

        if settings.threads:
            torch.set_num_threads(settings.threads)
        path = resolve_model(settings.model)
        dtype = resolve_dtype(settings.dtype, settings.device)

        def load(torch_dtype: object) -> object:
            return SentenceTransformer(
                str(path),
                device=settings.device,
                local_files_only=True,
                model_kwargs={"dtype": torch_dtype},
            )

        # On CPUs bf16 pays off only in batches: a single short query runs ~30x slower in bf16
        # than in float32 (oneDNN), so small calls (search queries) keep a float32 copy.
        on_cpu = not settings.device.startswith("cuda")
        if dtype == "bfloat16" and on_cpu:
            model, batch_model = load(torch.float32), load(torch.bfloat16)
        else:
            model, batch_model = load(getattr(torch, dtype)), None
        log.info("embedding model loaded", extra={"model": str(path), "dtype": dtype})
        return cls(model, settings.model, settings, batch_model, dtype)

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
            large = len(texts) >= self.settings.min_batch_for_bf16
            model = self._batch_model if self._batch_model is not None and large else self._model
            with _threads(None if large else 1):
                vectors = model.encode(  # type: ignore[attr-defined]
                    list(texts),
                    batch_size=self.settings.batch_size,
                    convert_to_tensor=True,
                    show_progress_bar=False,
                )
        # Normalise in float32: normalising bf16 outputs leaves norms ~1 +- 0.004.
        matrix = vectors.float().cpu().numpy()
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
