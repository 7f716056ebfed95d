"""Sparse (lexical, BM25) indexes of the embedded store, chosen by ``sparse_backend``.

Every engine is a :class:`~services.retrieval.sparse.base.SparseIndex` built by a factory
``(settings, directory) -> SparseIndex``; the registry imports only the chosen one, so
opensearch-py is never loaded for tantivy and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from docentlib.registry import Registry
from services.retrieval.sparse.base import SparseIndex

if TYPE_CHECKING:
    from services.retrieval.settings import RetrievalSettings

# (settings, directory of the embedded index; OpenSearch keeps its data in the cluster)
SparseLoader = Callable[["RetrievalSettings", Path], SparseIndex]

SPARSE_INDEXES: Registry[SparseLoader] = Registry(
    "sparse backend",
    {
        "tantivy": "services.retrieval.sparse.tantivy_index:TantivyIndex.open",
        "opensearch": "services.retrieval.sparse.opensearch_index:OpenSearchIndex.open",
    },
)
