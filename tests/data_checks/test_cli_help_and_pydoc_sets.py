"""Integrity of the rerank calibration set (tests/data/cli-help) and the pydoc held-out set.

Both are judged against pages `python -m bench.corpora.build` writes (a tool's ``--help``, a
stdlib module's pydoc); a qrel naming a page the builder never writes would silently lower the
figures docs/retrieval.md reports, so check it here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpora.build import CLI_TOOLS, PYDOC_MODULES
from tests.data_checks.query_set import QuerySet

DATA = Path(__file__).resolve().parents[1] / "data"
SETS = {
    # folder: (id prefix, at least this many queries, the names the builder writes pages for)
    "cli-help": ("cli-", 60, CLI_TOOLS),
    "pydoc": ("py-", 50, PYDOC_MODULES),
}


@pytest.mark.parametrize("folder", sorted(SETS))
def test_queries_and_qrels_are_well_formed_and_name_pages_the_builder_writes(folder: str) -> None:
    prefix, minimum, names = SETS[folder]
    judged = QuerySet(DATA / folder)
    judged.check_queries(minimum, prefix=prefix)
    judged.check_qrels()
    judged.check_spread(3)
    unknown = sorted(set(judged.judged_docs()) - {f"{name}.md" for name in names})
    assert not unknown, f"qrels point at pages bench/corpora/build.py does not write: {unknown}"
