"""Integrity of the held-out man-page set (tests/data/man5).

The set is one of the held-out corpora `docs/retrieval.md` reports on; a broken id or a qrel
pointing at a page that `python -m bench.corpora.build man5` does not write would silently lower
every metric, so check it here. The pages are rendered from the man pages installed on the
machine; the checks that need them fail with a clear message where they are not installed
(Debian bookworm with man-db, as on the CI machine).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bench.corpora.build import MAN5_CHARS, MAN5_DIR, MAN5_PAGES, man5_doc_name, man5_pages

SET_DIR = Path(__file__).resolve().parents[1] / "data" / "man5"
HEADER = ["query-id", "corpus-id", "score"]
DOC_PAGES = {f"{man5_doc_name(page)}.md": page for page in MAN5_PAGES}


def _queries() -> list[dict[str, str]]:
    lines = (SET_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _qrels() -> tuple[list[str], list[list[str]]]:
    with (SET_DIR / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[0], rows[1:]


def _judged_docs() -> list[str]:
    _, rows = _qrels()
    return sorted({r[1] for r in rows})


def test_at_least_54_queries_with_unique_ids_and_text() -> None:
    queries = _queries()
    assert len(queries) >= 54
    ids = [q["_id"] for q in queries]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("man5-") for i in ids)
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
    unknown = sorted(set(_judged_docs()) - set(DOC_PAGES))
    assert not unknown, f"qrels point at pages not in MAN5_PAGES: {unknown}"


def test_builder_list_is_sorted_unique_and_names_do_not_collide() -> None:
    assert list(MAN5_PAGES) == sorted(set(MAN5_PAGES))
    assert all(page.rsplit(".", 1)[1].startswith("5") for page in MAN5_PAGES)
    assert len(DOC_PAGES) == len(MAN5_PAGES)
    assert man5_doc_name("fstab.5") == "fstab"
    assert man5_doc_name("config.5ssl") == "config-ssl"


def test_no_page_is_relevant_to_more_than_two_queries() -> None:
    """The set is meant to cover many pages, not to repeat a few."""
    _, rows = _qrels()
    counts = Counter(r[1] for r in rows)
    assert max(counts.values()) <= 2, counts.most_common(3)


def test_every_judged_page_is_installed() -> None:
    assert MAN5_DIR.is_dir(), f"no man pages installed at {MAN5_DIR} (install man-db)"
    missing = [d for d in _judged_docs() if not (MAN5_DIR / f"{DOC_PAGES[d]}.gz").is_file()]
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
