"""Integrity of the held-out man-page set (tests/data/man5).

The set is one of the held-out corpora `docs/retrieval.md` reports on; a broken id or a qrel
pointing at a page that `python -m bench.corpora.build man5` does not write would silently lower
every metric, so check it here. The pages are rendered from the man pages installed on the
machine; the checks that need them fail with a clear message where they are not installed
(Debian bookworm with man-db, as on the CI machine).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.corpora.build import MAN5_CHARS, MAN5_DIR, MAN5_PAGES, man5_doc_name, man5_pages
from tests.data_checks.query_set import QuerySet

SET = QuerySet(Path(__file__).resolve().parents[1] / "data" / "man5")
DOC_PAGES = {f"{man5_doc_name(page)}.md": page for page in MAN5_PAGES}


def test_queries_and_qrels_are_well_formed() -> None:
    SET.check_queries(54, prefix="man5-")
    SET.check_qrels()


def test_every_relevant_doc_is_a_page_the_builder_knows() -> None:
    unknown = sorted(set(SET.judged_docs()) - set(DOC_PAGES))
    assert not unknown, f"qrels point at pages not in MAN5_PAGES: {unknown}"


def test_builder_list_is_sorted_unique_and_names_do_not_collide() -> None:
    assert list(MAN5_PAGES) == sorted(set(MAN5_PAGES))
    assert all(page.rsplit(".", 1)[1].startswith("5") for page in MAN5_PAGES)
    assert len(DOC_PAGES) == len(MAN5_PAGES)
    assert man5_doc_name("fstab.5") == "fstab"
    assert man5_doc_name("config.5ssl") == "config-ssl"


def test_no_page_is_relevant_to_more_than_two_queries() -> None:
    SET.check_spread(2)


def test_every_judged_page_is_installed() -> None:
    assert MAN5_DIR.is_dir(), f"no man pages installed at {MAN5_DIR} (install man-db)"
    missing = [d for d in SET.judged_docs() if not (MAN5_DIR / f"{DOC_PAGES[d]}.gz").is_file()]
    assert not missing, f"judged man pages not installed on this machine: {missing}"


def test_built_page_is_titled_plain_text_and_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Render two judged pages (one long, one short): titled, no overstrikes, within the cap."""
    pages = ("fstab.5", "systemd.exec.5")
    assert shutil.which("man"), "the man5 corpus is rendered with man-db: install it"
    assert all((MAN5_DIR / f"{p}.gz").is_file() for p in pages), f"{pages} not installed"
    monkeypatch.setattr("bench.corpora.build.MAN5_PAGES", pages)
    assert man5_pages(tmp_path) == len(pages)
    for page in pages:
        name = man5_doc_name(page)
        text = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
        title = f"# {name}\n\n"
        assert text.startswith(title), page
        assert 1000 <= len(text) - len(title) <= MAN5_CHARS + 1, page
        assert "\x08" not in text and "\x1b" not in text, page
