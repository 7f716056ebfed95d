"""The embedding core with the real packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import numpy as np
import pytest

from docentlib.errors import InvalidInput
from docentlib.precision import resolve_dtype
from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder.load(EmbeddingSettings(max_batch=8, max_text_chars=500))


def test_unit_vectors_of_the_model_dimension(embedder: Embedder) -> None:
    vectors = embedder.embed(["How do I roll back a Deployment?", "Pods are the smallest unit."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_related_texts_are_closer(embedder: Embedder) -> None:
    q, near, far = embedder.embed(
        [
            "roll back a deployment to a previous revision",
            "kubectl rollout undo deployment/nginx returns to the prior revision",
            "The cat sat on the warm windowsill all afternoon.",
        ]
    )
    assert float(q @ near) > float(q @ far) + 0.2


def test_batch_order_is_kept(embedder: Embedder) -> None:
    texts = [f"document number {i} about topic {i % 3}" for i in range(7)]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    # bf16 results depend slightly on padding, so compare by similarity, not bit for bit.
    similarity = together @ alone.T
    assert (np.argmax(similarity, axis=1) == np.arange(7)).all()
    assert np.diag(similarity).min() > 0.999


def test_bfloat16_matches_float32(embedder: Embedder) -> None:
    texts = ["How do I roll back a Deployment?", "A Service exposes a set of Pods. " * 20]
    exact = Embedder.load(EmbeddingSettings(dtype="float32")).embed(texts)
    fast = Embedder.load(EmbeddingSettings(dtype="bfloat16", min_batch_for_bf16=1)).embed(texts)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(exact * fast, axis=1))) > 0.999


def test_auto_dtype_follows_the_hardware() -> None:
    import torch

    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    assert resolve_dtype("auto", "cpu") == ("bfloat16" if native else "float32")
    assert resolve_dtype("auto", "cuda:0") == "bfloat16"
    assert resolve_dtype("float32", "cuda") == "float32"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([], "at least one"),
        (["ok", "  "], r"texts\[1\] is empty"),
        (["x"] * 9, "at most 8"),
        (["y" * 501], "limit 500"),
    ],
)
def test_invalid_batches_are_rejected(embedder: Embedder, texts: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        embedder.embed(texts)
