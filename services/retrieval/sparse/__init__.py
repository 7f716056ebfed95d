"""Sparse (lexical, BM25) indexes, and the one place that picks the configured engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.retrieval.sparse.base import SparseIndex

if TYPE_CHECKING:
    from services.retrieval.settings import RetrievalSettings


def build_sparse_index(settings: RetrievalSettings, directory: Path) -> SparseIndex:
    """The sparse index ``settings.sparse_backend`` names.

    ``directory`` is where the embedded tantivy index lives; OpenSearch keeps its data in the
    cluster and ignores it. Imports are deferred so each engine's client loads only when used.

    :raises Unavailable: when OpenSearch is chosen and cannot be reached or configured.
    """
    if settings.sparse_backend == "opensearch":
        from services.retrieval.sparse.opensearch_index import OpenSearchIndex

        return OpenSearchIndex(settings)
    from services.retrieval.sparse.tantivy_index import TantivyIndex

    return TantivyIndex(directory)
