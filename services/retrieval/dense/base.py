"""What the core needs of a dense index, so FAISS could be swapped for another engine."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class DenseIndex(Protocol):
    """Vectors keyed by integer chunk ids, searched by inner product (cosine on unit vectors).

    Not thread-safe for mutation: callers exclude searches while ``add``/``remove`` run.
    """

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors (n, dim) under int64 ids (n,)."""
        ...

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids (unknown ones are ignored); returns how many were removed."""
        ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Up to k (id, score) pairs, best first."""
        ...

    def save(self, path: Path, generation: int) -> None:
        """Persist atomically, recording the docstore generation this state reflects."""
        ...

    def load(self, path: Path) -> int | None:
        """Replace the contents with the saved ones; their generation, or None if unusable."""
        ...

    def clear(self) -> None:
        """Drop every vector (before a rebuild)."""
        ...

    def __len__(self) -> int: ...
