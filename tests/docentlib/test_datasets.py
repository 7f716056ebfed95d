"""Qrels with CRLF and headers, queries, and both corpus kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from docentlib.datasets import Corpus, load_qrels, load_queries
from docentlib.errors import InvalidInput


def test_qrels_with_crlf_header_and_zero_grades(tmp_path: Path) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_bytes(b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq1\td2\t2\r\nq2\td3\t0\r\n")
    assert load_qrels(path) == {"q1": {"d1": 1, "d2": 2}}


def test_qrels_without_header_space_separated_and_trec(tmp_path: Path) -> None:
    path = tmp_path / "qrels.txt"
    path.write_text("q1 d1 1\nq2 0 d2 1\n")
    assert load_qrels(path) == {"q1": {"d1": 1}, "q2": {"d2": 1}}


@pytest.mark.parametrize(
    ("content", "message"),
    [("q1\td1\n", "expected query-id"), ("h\th\th\nq1\td1\tx\n", "not a number"), ("", "no rel")],
)
def test_bad_qrels_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        load_qrels(path)


def test_queries_jsonl_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"_id": "q1", "text": "What is a Pod?"}\n\n{"_id": 2, "text": "x"}\n')
    assert load_queries(path) == {"q1": "What is a Pod?", "2": "x"}
    path.write_text('{"_id": "q1"}\n')
    with pytest.raises(InvalidInput, match=r"q.jsonl:1"):
        load_queries(path)
    path.write_text("not json\n")
    with pytest.raises(InvalidInput, match="not JSON"):
        load_queries(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_queries(tmp_path / "missing.jsonl")


def test_beir_and_folder_corpora(tmp_path: Path) -> None:
    beir = tmp_path / "corpus.jsonl"
    beir.write_text('{"_id": "7", "title": "Pods", "text": "A Pod runs containers."}\n')
    (doc,) = Corpus.open(beir).documents()
    assert (doc.doc_id, doc.title, doc.text) == ("7", "Pods", "A Pod runs containers.")
    assert Corpus.open(beir).key("7", "7") == "7"
    folder = tmp_path / "docs"
    (folder / "concepts").mkdir(parents=True)
    (folder / "concepts" / "pod.md").write_text("# Pods\n\nA Pod runs containers.\n")
    corpus = Corpus.open(folder)
    (doc,) = corpus.documents()
    assert corpus.key(doc.doc_id, doc.source_path) == "concepts/pod.md"
    with pytest.raises(InvalidInput, match="corpus"):
        Corpus.open(tmp_path / "nothing.txt")
