"""Checks every judged question set shares (queries.jsonl + qrels.tsv in a BEIR-style folder).

A broken id, a duplicate pair or an unjudged query silently skews every metric computed on a
set, so each set's data check calls these; what is particular to a set (where its pages come
from) stays in its own test file.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HEADER = ["query-id", "corpus-id", "score"]


@dataclass(frozen=True)
class QuerySet:
    """One folder of tests/data holding ``queries.jsonl`` and ``qrels.tsv``."""

    folder: Path

    def queries(self) -> list[dict[str, str]]:
        lines = (self.folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def qrels(self) -> tuple[list[str], list[list[str]]]:
        with (self.folder / "qrels.tsv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t"))
        return rows[0], rows[1:]

    def judged_docs(self) -> list[str]:
        return sorted({row[1] for row in self.qrels()[1]})

    def check_queries(self, minimum: int, prefix: str = "") -> None:
        """At least ``minimum`` queries, unique ids (with ``prefix``), unique non-empty text."""
        queries = self.queries()
        assert len(queries) >= minimum
        ids = [q["_id"] for q in queries]
        assert len(ids) == len(set(ids)), "duplicate query id"
        assert all(i.startswith(prefix) for i in ids), f"ids must start with {prefix!r}"
        assert all(isinstance(q["text"], str) and q["text"].strip() for q in queries)
        assert len({q["text"].strip().lower() for q in queries}) == len(queries), "same text twice"

    def check_qrels(self) -> None:
        """Header, three fields per line, positive scores, no pair twice; every qrel names a
        known query and every query has a relevant document."""
        header, rows = self.qrels()
        assert header == HEADER
        assert rows
        for row in rows:
            assert len(row) == 3, row
            assert int(row[2]) >= 1, row
        pairs = [(r[0], r[1]) for r in rows]
        assert len(pairs) == len(set(pairs)), "duplicate (query, doc) pair"
        ids = {q["_id"] for q in self.queries()}
        judged = {r[0] for r in rows}
        assert judged <= ids, f"qrels for unknown queries: {sorted(judged - ids)}"
        assert ids <= judged, f"queries without a relevant doc: {sorted(ids - judged)}"

    def check_spread(self, most_per_page: int) -> None:
        """The set covers many pages rather than repeating a few."""
        counts = Counter(row[1] for row in self.qrels()[1])
        assert max(counts.values()) <= most_per_page, counts.most_common(3)
