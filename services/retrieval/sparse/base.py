"""What the core needs of a sparse index, so tantivy could be swapped for another engine."""

from __future__ import annotations

from typing import Protocol

SparseEntry = tuple[int, str, str, tuple[str, ...]]  # (id, text, title, heading_path)


class SparseIndex(Protocol):
    """BM25 over chunk text keyed by integer chunk ids.

    Changes become visible and durable only at :meth:`commit`, which also records the docstore
    generation they reflect.
    """

    def upsert(self, entries: list[SparseEntry]) -> None:
        """Add entries, replacing any already stored under the same ids."""
        ...

    def remove(self, ids: list[int]) -> None:
        """Remove ids (unknown ones are ignored)."""
        ...

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to k (id, score) pairs, best first; any string is accepted, empty gives []."""
        ...

    def commit(self, generation: int) -> None:
        """Make pending changes durable and visible, then record ``generation``."""
        ...

    def generation(self) -> int | None:
        """The generation of the last commit, or None if unknown (index must be rebuilt)."""
        ...

    def clear(self) -> None:
        """Drop every entry (takes effect at the next commit)."""
        ...

    def close(self) -> None:
        """Release the writer lock and other resources."""
        ...

    def __len__(self) -> int: ...
