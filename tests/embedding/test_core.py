"""The embedding core with the real packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import numpy as np
import pytest

from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings
from services.runtime.errors import InvalidInput


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
    assert np.allclose(together, alone, atol=1e-5)


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
