"""Integrity of the rerank calibration set (tests/data/cli-help) and the pydoc held-out set.

Both are judged against pages `python -m bench.corpora.build` writes (a tool's ``--help``, a
stdlib module's pydoc); a qrel naming a page the builder never writes would silently lower the
figures docs/retrieval.md reports, so check it here.
"""

from __future__ import annotations

from pathlib import Path

from bench.corpora.build import CLI_TOOLS, PYDOC_MODULES
from tests.data_checks.query_set import QuerySet

DATA = Path(__file__).resolve().parents[1] / "data"
CLI_HELP = QuerySet(DATA / "cli-help")
PYDOC = QuerySet(DATA / "pydoc")


def test_cli_help_queries_and_qrels_are_well_formed() -> None:
    CLI_HELP.check_queries(60, prefix="cli-")
    CLI_HELP.check_qrels()
    CLI_HELP.check_spread(3)


def test_cli_help_qrels_name_tools_the_builder_runs() -> None:
    pages = {f"{tool}.md" for tool in CLI_TOOLS}
    unknown = sorted(set(CLI_HELP.judged_docs()) - pages)
    assert not unknown, f"qrels point at tools not in CLI_TOOLS: {unknown}"


def test_pydoc_queries_and_qrels_are_well_formed() -> None:
    PYDOC.check_queries(50, prefix="py-")
    PYDOC.check_qrels()
    PYDOC.check_spread(3)


def test_pydoc_qrels_name_modules_the_builder_renders() -> None:
    pages = {f"{module}.md" for module in PYDOC_MODULES}
    unknown = sorted(set(PYDOC.judged_docs()) - pages)
    assert not unknown, f"qrels point at modules not in PYDOC_MODULES: {unknown}"
