"""Dense (vector) indexes of the embedded store, chosen by ``dense_index``.

Every kind is a :class:`~services.retrieval.dense.base.DenseIndex` built by a factory
``(settings) -> DenseIndex`` (a fresh, empty index; the store loads or rebuilds it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from docentlib.registry import Registry
from services.retrieval.dense.base import DenseIndex

if TYPE_CHECKING:
    from services.retrieval.settings import RetrievalSettings

DenseLoader = Callable[["RetrievalSettings"], DenseIndex]

DENSE_INDEXES: Registry[DenseLoader] = Registry(
    "dense index",
    {
        "hnsw": "services.retrieval.dense.faiss_index:FaissIndex.hnsw",
        "flat": "services.retrieval.dense.faiss_index:FaissIndex.flat",
        "ivfpq": "services.retrieval.dense.faiss_index:FaissIndex.ivfpq",
    },
)
