"""Retrieval stores, chosen once at load by ``DOCENT_RETRIEVAL_STORE``.

Every store is a :class:`~services.retrieval.store.base.ChunkStore` built by a factory
``(settings, stop) -> ChunkStore``; ``stop`` is set when the service shuts down, so a store
that waits at start-up (for OpenSearch) gives up at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from docentlib.registry import Registry
from services.retrieval.store.base import ChunkStore

if TYPE_CHECKING:
    from services.retrieval.settings import RetrievalSettings

StoreLoader = Callable[["RetrievalSettings", threading.Event], ChunkStore]

STORES: Registry[StoreLoader] = Registry(
    "retrieval store",
    {
        "embedded": "services.retrieval.store.embedded:EmbeddedStore.open",
        "opensearch": "services.retrieval.store.opensearch_store:OpenSearchStore.open",
    },
)
