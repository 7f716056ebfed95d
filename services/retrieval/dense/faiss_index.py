"""Exact inner-product search with FAISS, saved atomically together with its generation.

``IndexFlatIP`` is exact and needs no training, which suits a docs corpus of up to a few
hundred thousand chunks; ``IndexIDMap2`` maps the docstore's chunk row ids onto it and supports
removal. The saved file is a small header (magic + generation) followed by the FAISS bytes, so
the generation can never disagree with the vectors it describes.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np

from services.retrieval.atomic import atomic_write
from services.retrieval.validation import as_matrix, as_vector

log = logging.getLogger(__name__)

_MAGIC = b"DOCENTFX"
_HEADER = struct.Struct("<8sQ")  # magic, generation


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit rows (a copy), so inner product is cosine even if a caller forgot to normalise."""
    vectors = np.array(vectors, dtype=np.float32, copy=True)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


class FaissIndex:
    """A :class:`~services.retrieval.dense.base.DenseIndex` over FAISS (exact, cosine)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = self._empty()

    def _empty(self) -> faiss.IndexIDMap2:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            return
        matrix = as_matrix(vectors, self.dim)
        if matrix.shape[0] != ids.size:
            raise ValueError(f"{ids.size} ids for {matrix.shape[0]} vectors")
        self._index.add_with_ids(_normalise(matrix), ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        query = _normalise(as_vector(vector, self.dim, "query vector").reshape(1, -1))
        if k <= 0 or len(self) == 0:
            return []
        scores, ids = self._index.search(query, min(k, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def clear(self) -> None:
        self._index = self._empty()

    def save(self, path: Path, generation: int) -> None:
        """Header plus FAISS bytes, written atomically (temp file, fsync, rename)."""

        def write(f: BinaryIO) -> None:
            f.write(_HEADER.pack(_MAGIC, generation))
            faiss.write_index(self._index, faiss.PyCallbackIOWriter(f.write))

        atomic_write(path, write)

    def load(self, path: Path) -> int | None:
        """Load ``path``; None (and an empty index) if it is missing, corrupt or of another dim."""
        try:
            with path.open("rb") as f:
                magic, generation = _HEADER.unpack(f.read(_HEADER.size))
                if magic != _MAGIC:
                    raise ValueError("not a docent dense index")
                index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        except FileNotFoundError:
            self.clear()
            return None
        except Exception as exc:  # corrupt or foreign file: the docstore can rebuild it
            log.warning("dense index unreadable, will rebuild", extra={"error": str(exc)})
            self.clear()
            return None
        if not isinstance(index, faiss.IndexIDMap2) or index.d != self.dim:
            log.warning("dense index has another type or dim, will rebuild")
            self.clear()
            return None
        self._index = index
        return int(generation)
