"""HNSW tombstones and compaction, IVF-PQ training, and persistence of each index kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.retrieval.dense.faiss_index import COMPACT_FRACTION, DenseParams, FaissIndex

DIM = 32


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around 20 centres: closer to real embeddings than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, DIM))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _index(kind: str, n: int, **kw: int) -> tuple[FaissIndex, np.ndarray]:
    index = FaissIndex(DIM, DenseParams(kind=kind, **kw))  # type: ignore[arg-type]
    vectors = _clustered(n)
    index.add(np.arange(n) + 1000, vectors)
    return index, vectors


def _recall_at_10(index: FaissIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = FaissIndex(DIM, DenseParams(kind="flat"))
    exact.add(np.arange(len(vectors)) + 1000, vectors)
    found = 0
    for q in queries:
        truth = {i for i, _ in exact.search(q, 10)}
        found += len(truth & {i for i, _ in index.search(q, 10)})
    return found / (10 * len(queries))


def test_hnsw_is_the_default_and_nearly_exact() -> None:
    index, vectors = _index("hnsw", 3000)
    assert FaissIndex(DIM).params.kind == "hnsw" and index.trained_kind == "hnsw"
    assert _recall_at_10(index, vectors, _clustered(100, seed=1)) >= 0.98


def test_hnsw_removal_hides_ids_then_compacts() -> None:
    index, vectors = _index("hnsw", 100)
    assert index.remove(np.array([1000, 1001, 999_999])) == 2  # unknown ids are ignored
    assert len(index) == 98
    assert 1000 not in {i for i, _ in index.search(vectors[0], 100)}
    # Past the compaction threshold the graph is rebuilt without tombstones.
    index.remove(np.arange(1002, 1002 + int(COMPACT_FRACTION * 100)))
    assert index._deleted == set() and index._index.ntotal == len(index) == 78
    assert {i for i, _ in index.search(vectors[50], 5)} <= set(range(1022, 1100))


def test_hnsw_re_adding_a_removed_id_replaces_it() -> None:
    index, vectors = _index("hnsw", 50)
    index.remove(np.array([1007]))
    index.add(np.array([1007]), vectors[30:31])
    assert len(index) == 50
    top = index.search(vectors[30], 2)
    assert {i for i, _ in top} == {1007, 1030}


def test_ivfpq_stays_exact_until_trained_then_trains_itself() -> None:
    params = {"ivf_nlist": 8, "pq_m": 16, "pq_nbits": 6, "ivf_nprobe": 8}
    small, _ = _index("ivfpq", 100, **params)
    assert small.trained_kind == "flat"
    train_size = DenseParams(kind="ivfpq", **params).train_size
    index, vectors = _index("ivfpq", train_size + 10, **params)
    assert index.trained_kind == "ivfpq" and len(index) == train_size + 10
    assert _recall_at_10(index, vectors, _clustered(50, seed=2)) >= 0.5  # compressed: lossy
    assert index.search(vectors[5], 1)[0][0] == 1005  # an indexed vector finds itself
    assert index.remove(np.array([1000, 1001])) == 2 and len(index) == train_size + 8


def test_pq_m_must_divide_the_dimension() -> None:
    with pytest.raises(ValueError, match="divide"):
        FaissIndex(DIM, DenseParams(kind="ivfpq", pq_m=7))


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_save_and_load_keep_vectors_tombstones_and_generation(kind: str, tmp_path: Path) -> None:
    index, vectors = _index(kind, 200)
    index.remove(np.array([1003]))
    index.save(tmp_path / "dense.faiss", 7)
    loaded = FaissIndex(DIM, DenseParams(kind=kind))  # type: ignore[arg-type]
    assert loaded.load(tmp_path / "dense.faiss") == 7
    assert len(loaded) == 199
    assert loaded.search(vectors[3], 200) == index.search(vectors[3], 200)


def test_loading_an_index_of_another_kind_asks_for_a_rebuild(tmp_path: Path) -> None:
    index, _ = _index("flat", 20)
    index.save(tmp_path / "dense.faiss", 3)
    assert FaissIndex(DIM, DenseParams(kind="hnsw")).load(tmp_path / "dense.faiss") is None
    other_m, _ = _index("hnsw", 20)
    other_m.save(tmp_path / "m.faiss", 3)
    assert FaissIndex(DIM, DenseParams(kind="hnsw", hnsw_m=16)).load(tmp_path / "m.faiss") is None
