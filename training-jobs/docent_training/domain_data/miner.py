"""BM25 over the sections, to choose the other passages a training prompt quotes.

The gateway's prompt holds its top passages, most of them not the answer; training prompts
hold the answering passage among the sections BM25 finds for the same question (the same
analysis as sparse retrieval), so the model learns to pick out and cite the right one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from docent_training.domain_data.sections import Section
from services.retrieval.sparse.tantivy_index import TantivyIndex


class SectionSearch:
    """Usage: ``with SectionSearch(sections) as search: search.hits("What is a Pod?", 20)``."""

    def __init__(self, sections: Sequence[Section]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="docent-data-")
        self._index = TantivyIndex(Path(self._tmp.name) / "bm25")
        self._index.upsert([(i, s.text, s.title, s.heading_path) for i, s in enumerate(sections)])
        self._index.commit(1)

    def hits(self, query: str, k: int) -> list[int]:
        """Indices of the best ``k`` sections for ``query``, best first."""
        return [i for i, _ in self._index.search(query, k)]

    def close(self) -> None:
        self._index.close()
        self._tmp.cleanup()

    def __enter__(self) -> SectionSearch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
