"""Argument checks shared by the core and the indexes, raising ``InvalidInput`` that names
the bad value, so the caller learns what to fix before anything is written."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from docentlib.errors import InvalidInput
from services.retrieval.types import DocumentRecord, SearchMode


def as_vector(vector: object, dim: int, what: str = "vector") -> np.ndarray:
    """``vector`` as a finite float32 array of shape (dim,), or ``InvalidInput``."""
    try:
        array = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not a numeric vector: {exc}") from exc
    if array.ndim != 1 or array.shape[0] != dim:
        raise InvalidInput(f"{what} has shape {array.shape}; expected ({dim},) (the index dim)")
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{what} contains NaN or infinity")
    if not np.any(array):
        raise InvalidInput(f"{what} is all zeros and has no direction")
    return array


def as_matrix(vectors: object, dim: int) -> np.ndarray:
    """``vectors`` as a finite float32 array of shape (n, dim), or ``InvalidInput``."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != dim:
        raise InvalidInput(f"vectors have shape {array.shape}; expected (n, {dim})")
    if not np.all(np.isfinite(array)):
        raise InvalidInput("vectors contain NaN or infinity")
    return array


def validate_documents(documents: Sequence[DocumentRecord], dim: int) -> None:
    """Reject a batch that could not be stored whole: missing ids, duplicates, bad vectors."""
    doc_ids: set[str] = set()
    chunk_ids: set[str] = set()
    for i, doc in enumerate(documents):
        if not doc.doc_id:
            raise InvalidInput(f"documents[{i}] has an empty doc_id")
        if doc.doc_id in doc_ids:
            raise InvalidInput(f"doc_id {doc.doc_id!r} appears more than once in one upsert")
        doc_ids.add(doc.doc_id)
        for j, chunk in enumerate(doc.chunks):
            where = f"document {doc.doc_id!r} chunk {j}"
            if not chunk.chunk_id:
                raise InvalidInput(f"{where} has an empty chunk_id")
            if chunk.chunk_id in chunk_ids:
                raise InvalidInput(f"chunk_id {chunk.chunk_id!r} appears more than once")
            chunk_ids.add(chunk.chunk_id)
            if not 0 <= chunk.char_start <= chunk.char_end:
                raise InvalidInput(
                    f"{where} has char_start={chunk.char_start}, char_end={chunk.char_end}; "
                    "need 0 <= char_start <= char_end"
                )
            as_vector(chunk.vector, dim, f"{where} ({chunk.chunk_id!r}) vector")


def as_mode(mode: object) -> SearchMode:
    """``mode`` as a :class:`SearchMode`, accepting its string value too."""
    try:
        return SearchMode(mode)  # type: ignore[arg-type]  # a str or a SearchMode
    except ValueError:
        choices = ", ".join(m.value for m in SearchMode)
        raise InvalidInput(f"unknown search mode {mode!r}; choose one of {choices}") from None


def check_k(k: object, max_k: int) -> int:
    """``k`` as an int in 1..max_k, or ``InvalidInput``."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= max_k:
        raise InvalidInput(f"k must be an integer from 1 to {max_k}, got {k!r}")
    return int(k)
