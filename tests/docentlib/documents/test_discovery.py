"""discover / load_document: which files become documents, under which stable ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from docentlib.documents.discovery import SourceFile, discover, load_document
from docentlib.errors import InvalidInput


def write(root: Path, rel: str, text: str = "# T\n\nBody.\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_walks_sorted_skipping_hidden_and_other_suffixes(tmp_path: Path) -> None:
    for rel in (
        "zeta.md",
        "concepts/workloads/controllers/deployment.md",
        "concepts/a.markdown",
        "concepts/UPPER.MD",
        ".git/ignored.md",
        "concepts/.hidden/ignored.md",
        "concepts/.ignored.md",
        "notes.csv",
        "image.png",
    ):
        write(tmp_path, rel)
    found = discover(tmp_path)
    assert [sf.rel_path for sf in found] == [
        "concepts/UPPER.MD",
        "concepts/a.markdown",
        "concepts/workloads/controllers/deployment.md",
        "zeta.md",
    ]
    assert [sf.doc_id for sf in found] == [
        "concepts/UPPER",
        "concepts/a",
        "concepts/workloads/controllers/deployment",
        "zeta",
    ]
    assert found[2].path == tmp_path / "concepts/workloads/controllers/deployment.md"


def test_custom_suffixes(tmp_path: Path) -> None:
    write(tmp_path, "a.md")
    write(tmp_path, "b.txt")
    assert [sf.doc_id for sf in discover(tmp_path, suffixes=("txt",))] == ["b"]


def test_single_file_uses_its_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "deep/er/deployment.md")
    assert discover(path) == [SourceFile(path, "deployment.md", "deployment")]


def test_single_file_with_wrong_suffix_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.csv")
    with pytest.raises(InvalidInput, match=r"notes\.csv"):
        discover(path)


def test_missing_root_raises_invalid_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InvalidInput, match="does not exist") as info:
        discover(missing)
    assert str(missing) in info.value.message


def test_colliding_doc_ids_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "pods.md")
    write(tmp_path, "pods.markdown")
    with pytest.raises(InvalidInput, match="'pods'"):
        discover(tmp_path)


def test_load_document_parses_with_relative_source_path(tmp_path: Path) -> None:
    raw = "---\ntitle: Pods\n---\nA Pod is the smallest unit.\n"
    write(tmp_path, "concepts/pods.md", raw)
    (source,) = discover(tmp_path)
    doc = load_document(source)
    assert (doc.doc_id, doc.title, doc.source_path) == ("concepts/pods", "Pods", "concepts/pods.md")
    assert doc.text == "A Pod is the smallest unit."
    assert (
        doc.content_hash == hashlib.sha256((tmp_path / "concepts/pods.md").read_bytes()).hexdigest()
    )


def test_load_document_replaces_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b"# Caf\xe9\n\nBody \xff here.\n")
    doc = load_document(discover(path)[0])
    assert doc.title == "Caf\ufffd"
    assert doc.text.endswith("Body \ufffd here.")


def test_real_docs_tree(k8s_docs: Path) -> None:
    found = discover(k8s_docs)
    assert len(found) == 1672
    ids = [sf.doc_id for sf in found]
    assert len(set(ids)) == len(ids)
    assert "concepts/workloads/controllers/deployment" in ids
    assert [sf.rel_path for sf in found] == sorted(sf.rel_path for sf in found)
