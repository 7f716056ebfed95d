from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from docentlib.errors import InvalidInput
from services.retrieval.dense.faiss_index import FaissIndex
from tests.retrieval.helpers import DIM, unit


def _filled(n: int = 10) -> FaissIndex:
    index = FaissIndex(DIM)
    index.add(np.arange(100, 100 + n), np.stack([unit(i) for i in range(n)]))
    return index


def test_search_is_exact_cosine_with_external_ids() -> None:
    index = _filled()
    assert len(index) == 10
    hits = index.search(unit(3), 3)
    assert hits[0][0] == 103 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    vectors = np.stack([unit(i) for i in range(10)])
    expected = np.argsort(-(vectors @ unit(3)))[:3] + 100
    assert [id_ for id_, _ in hits] == expected.tolist()
    assert hits[0][1] >= hits[1][1] >= hits[2][1]


def test_k_larger_than_index_and_empty_index() -> None:
    assert len(_filled(4).search(unit(0), 50)) == 4
    assert FaissIndex(DIM).search(unit(0), 5) == []


def test_vectors_are_normalised_so_scores_are_cosines() -> None:
    index = FaissIndex(DIM)
    index.add(np.array([1]), (unit(1) * 7.5)[None, :])
    ((id_, score),) = index.search(unit(1) * 0.1, 1)
    assert id_ == 1 and score == pytest.approx(1.0, abs=1e-5)


def test_remove_ignores_unknown_ids() -> None:
    index = _filled()
    assert index.remove(np.array([103, 999])) == 1
    assert len(index) == 9
    assert 103 not in [id_ for id_, _ in index.search(unit(3), 10)]
    assert index.remove(np.array([], dtype=np.int64)) == 0


@pytest.mark.parametrize("bad", [np.zeros(DIM + 1), np.zeros((2, DIM)), np.ones(DIM - 1)])
def test_query_dimension_mismatch_is_invalid_input(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match=f"expected \\({DIM},\\)"):
        _filled().search(bad, 3)


def test_add_dimension_mismatch_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=f"expected \\(n, {DIM}\\)"):
        FaissIndex(DIM).add(np.array([1]), np.ones((1, DIM * 2), dtype=np.float32))


def test_nan_query_is_invalid_input() -> None:
    query = unit(0)
    query[0] = np.nan
    with pytest.raises(InvalidInput, match="NaN"):
        _filled().search(query, 3)


def test_save_and_load_round_trip_with_generation(tmp_path: Path) -> None:
    path = tmp_path / "dense.faiss"
    original = _filled()
    original.remove(np.array([105]))
    original.save(path, generation=42)
    assert [p.name for p in tmp_path.iterdir()] == ["dense.faiss"]  # no temp files left
    loaded = FaissIndex(DIM)
    assert loaded.load(path) == 42
    assert len(loaded) == 9
    assert loaded.search(unit(7), 4) == original.search(unit(7), 4)
    original.save(path, generation=43)  # overwrite in place
    assert FaissIndex(DIM).load(path) == 43


def test_load_of_missing_corrupt_or_foreign_file_is_none(tmp_path: Path) -> None:
    index = _filled()
    assert index.load(tmp_path / "missing") is None and len(index) == 0
    corrupt = tmp_path / "corrupt"
    corrupt.write_bytes(b"DOCENTFX" + b"\x00" * 8 + b"garbage")
    assert FaissIndex(DIM).load(corrupt) is None
    (tmp_path / "short").write_bytes(b"abc")
    assert FaissIndex(DIM).load(tmp_path / "short") is None
    other_dim = tmp_path / "other"
    FaissIndex(DIM * 2).save(other_dim, 1)
    assert FaissIndex(DIM).load(other_dim) is None


def test_clear() -> None:
    index = _filled()
    index.clear()
    assert len(index) == 0
