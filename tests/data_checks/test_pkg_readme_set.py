"""Integrity of the package-README calibration set (tests/data/pkg-readme).

The set calibrates the rerank blend (bench/rerank_blend.py); a broken id or a qrel pointing at
a page that `python -m bench.corpora.build pkg-readme` does not write would silently skew the
calibration, so check it here. The pages come from the installed distributions' metadata, so
building them is cheap (no network, no model).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from bench.corpora.build import PKG_README_CHARS, PKG_README_DISTS, pkg_readme_pages
from tests.data_checks.query_set import QuerySet

SET = QuerySet(Path(__file__).resolve().parents[1] / "data" / "pkg-readme")


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_queries_and_qrels_are_well_formed() -> None:
    SET.check_queries(60, prefix="pkg-")
    SET.check_qrels()


def test_every_relevant_doc_is_a_page_the_builder_knows() -> None:
    pages = {f"{name}.md" for name in PKG_README_DISTS}
    unknown = sorted(set(SET.judged_docs()) - pages)
    assert not unknown, f"qrels point at pages not in PKG_README_DISTS: {unknown}"


def test_builder_list_is_sorted_lowercase_and_unique() -> None:
    assert list(PKG_README_DISTS) == sorted(set(PKG_README_DISTS))
    assert all(name == name.lower() for name in PKG_README_DISTS)
    assert "docent" not in PKG_README_DISTS


def test_no_page_is_relevant_to_more_than_two_queries() -> None:
    SET.check_spread(2)


def test_built_pages_hold_every_judged_page(tmp_path: Path) -> None:
    """Build the corpus from this environment: each judged page is written, titled, capped."""
    written = pkg_readme_pages(tmp_path)
    assert written == sum(_installed(name) for name in PKG_README_DISTS)
    judged = SET.judged_docs()
    not_installed = [d for d in judged if not _installed(d.removesuffix(".md"))]
    assert not not_installed, f"judged packages not installed in this environment: {not_installed}"
    for doc in judged:
        text = (tmp_path / doc).read_text(encoding="utf-8")
        title = f"# {doc.removesuffix('.md')}\n\n"
        assert text.startswith(title), doc
        assert 1000 <= len(text) - len(title) <= PKG_README_CHARS + 1, doc
