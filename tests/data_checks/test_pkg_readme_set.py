"""Integrity of the package-README calibration set (tests/data/pkg-readme).

The set calibrates the rerank blend (bench/rerank_blend.py); a broken id or a qrel pointing at
a page that `python -m bench.corpora.build pkg-readme` does not write would silently skew the
calibration, so check it here. The pages come from the installed distributions' metadata, so
building them is cheap (no network, no model).
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
from collections import Counter
from pathlib import Path

from bench.corpora.build import PKG_README_CHARS, PKG_README_DISTS, pkg_readme_pages

SET_DIR = Path(__file__).resolve().parents[1] / "data" / "pkg-readme"
HEADER = ["query-id", "corpus-id", "score"]


def _queries() -> list[dict[str, str]]:
    lines = (SET_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _qrels() -> tuple[list[str], list[list[str]]]:
    with (SET_DIR / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[0], rows[1:]


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_at_least_60_queries_with_unique_ids_and_text() -> None:
    queries = _queries()
    assert len(queries) >= 60
    ids = [q["_id"] for q in queries]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("pkg-") for i in ids)
    assert all(isinstance(q["text"], str) and q["text"].strip() for q in queries)
    assert len({q["text"].strip().lower() for q in queries}) == len(queries)


def test_qrels_header_and_well_formed_lines() -> None:
    header, rows = _qrels()
    assert header == HEADER
    assert rows
    for row in rows:
        assert len(row) == 3, row
        assert int(row[2]) >= 1, row
    pairs = [(r[0], r[1]) for r in rows]
    assert len(pairs) == len(set(pairs)), "duplicate (query, doc) pair"


def test_every_qrel_refers_to_a_known_query_and_every_query_is_judged() -> None:
    ids = {q["_id"] for q in _queries()}
    _, rows = _qrels()
    judged = {r[0] for r in rows}
    assert judged <= ids, f"qrels for unknown queries: {sorted(judged - ids)}"
    assert ids <= judged, f"queries without a relevant doc: {sorted(ids - judged)}"


def test_every_relevant_doc_is_a_page_the_builder_knows() -> None:
    _, rows = _qrels()
    pages = {f"{name}.md" for name in PKG_README_DISTS}
    unknown = sorted({r[1] for r in rows} - pages)
    assert not unknown, f"qrels point at pages not in PKG_README_DISTS: {unknown}"


def test_builder_list_is_sorted_lowercase_and_unique() -> None:
    assert list(PKG_README_DISTS) == sorted(set(PKG_README_DISTS))
    assert all(name == name.lower() for name in PKG_README_DISTS)
    assert "docent" not in PKG_README_DISTS


def test_no_page_is_relevant_to_more_than_two_queries() -> None:
    """The set is meant to cover many pages, not to repeat a few."""
    _, rows = _qrels()
    counts = Counter(r[1] for r in rows)
    assert max(counts.values()) <= 2, counts.most_common(3)


def test_built_pages_hold_every_judged_page(tmp_path: Path) -> None:
    """Build the corpus from this environment: each judged page is written, titled, capped."""
    written = pkg_readme_pages(tmp_path)
    assert written == sum(_installed(name) for name in PKG_README_DISTS)
    _, rows = _qrels()
    judged = sorted({r[1] for r in rows})
    not_installed = [d for d in judged if not _installed(d.removesuffix(".md"))]
    assert not not_installed, f"judged packages not installed in this environment: {not_installed}"
    for doc in judged:
        text = (tmp_path / doc).read_text(encoding="utf-8")
        title = f"# {doc.removesuffix('.md')}\n\n"
        assert text.startswith(title), doc
        assert 1000 <= len(text) - len(title) <= PKG_README_CHARS + 1, doc
