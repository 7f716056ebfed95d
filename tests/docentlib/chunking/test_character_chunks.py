"""chunk_document: exact slices, heading paths, bounded sizes, overlap, tiny-section merging."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from docentlib.chunking.character_chunks import chunk_document
from docentlib.chunking.sections import heading_of
from docentlib.documents.fences import scan_lines
from docentlib.documents.parsers.markdown import parse_markdown
from docentlib.documents.types import ParsedDocument, TextChunk
from docentlib.errors import InvalidInput

PROSE = (
    "Kubernetes progressively rolls out changes to your application. "
    "It monitors application health while it does so. "
    "If something goes wrong, Kubernetes rolls back the change for you. "
)


def doc_of(text: str, doc_id: str = "d") -> ParsedDocument:
    return ParsedDocument(doc_id, "Title", f"{doc_id}.md", text, "0" * 64)


def check_invariants(doc: ParsedDocument, chunks: list[TextChunk], max_chars: int) -> None:
    for ordinal, chunk in enumerate(chunks):
        assert chunk.chunk_id == f"{doc.doc_id}#{ordinal}"
        assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= max_chars, (chunk.chunk_id, len(chunk.text))
    starts = [c.char_start for c in chunks]
    assert starts == sorted(starts)


def uncovered(doc: ParsedDocument, chunks: list[TextChunk]) -> str:
    """Non-space text outside every chunk and every heading line (should be empty)."""
    covered = bytearray(len(doc.text))
    for chunk in chunks:
        covered[chunk.char_start : chunk.char_end] = b"\x01" * len(chunk.text)
    for line in scan_lines(doc.text):
        if heading_of(doc.text, line):
            covered[line.start : line.end] = b"\x01" * (line.end - line.start)
    return "".join(ch for ch, c in zip(doc.text, covered, strict=True) if not c).strip()


def test_heading_paths_nest_and_pop() -> None:
    text = (
        "Intro paragraph that is long enough to stand alone as a chunk of its own, surely.\n\n"
        "## Rolling Back a Deployment\n\n" + PROSE + "\n\n"
        "### Checking Rollout History of a Deployment\n\n" + PROSE + "\n\n"
        "#### Deeper\n\n" + PROSE + "\n\n"
        "## Scaling a Deployment {#scaling}\n\n" + PROSE + "\n"
    )
    chunks = chunk_document(doc_of(text))
    assert [c.heading_path for c in chunks] == [
        (),
        ("Rolling Back a Deployment",),
        ("Rolling Back a Deployment", "Checking Rollout History of a Deployment"),
        ("Rolling Back a Deployment", "Checking Rollout History of a Deployment", "Deeper"),
        ("Scaling a Deployment",),
    ]
    assert chunks[1].text == PROSE.strip()  # the body only: headings live in heading_path
    check_invariants(doc_of(text), chunks, 1200)


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    text = (
        "## Rolling Back\n\n" + PROSE + "\n\n"
        "```shell\n# Check the history first\nkubectl rollout history deployment/web\n"
        "## not a heading either\nkubectl rollout undo deployment/web\n```\n\n"
        "~~~\n# tilde fences too\n~~~\n\n" + PROSE + "\n"
    )
    chunks = chunk_document(doc_of(text))
    assert len(chunks) == 1
    assert chunks[0].heading_path == ("Rolling Back",)
    assert "# Check the history first" in chunks[0].text
    assert "kubectl rollout undo deployment/web" in chunks[0].text


def test_long_section_is_split_within_max_chars_with_overlap() -> None:
    paragraphs = [" ".join([PROSE.strip()] * 3) for _ in range(8)]
    text = "## Long\n\n" + "\n\n".join(paragraphs) + "\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_chars=600, overlap_chars=120)
    check_invariants(doc, chunks, 600)
    assert len(chunks) >= 4
    assert uncovered(doc, chunks) == ""
    for before, after in itertools.pairwise(chunks):
        assert after.heading_path == ("Long",)
        shared = before.char_end - after.char_start
        assert 0 < shared <= 120, "consecutive pieces of a section overlap"
        assert before.text.endswith(after.text[:shared])
        assert re.match(r"[A-Z]", after.text), "overlap starts at a whole sentence"


def test_cuts_never_fall_inside_words() -> None:
    words = ("alpha", "beta", "gamma", "delta", "epsilon")
    text = "## Words\n\n" + " ".join(words[i % 5] for i in range(2000)) + "\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_chars=300, overlap_chars=40)
    check_invariants(doc, chunks, 300)
    for chunk in chunks:
        assert chunk.char_start == 0 or doc.text[chunk.char_start - 1].isspace()
        assert chunk.char_end == len(doc.text) or doc.text[chunk.char_end].isspace()
    assert len(chunks) > 1
    assert all(c.char_start < p.char_end for p, c in itertools.pairwise(chunks))


def test_unsplittable_token_is_cut_at_max_chars() -> None:
    token = "3.14159" + "2653589793" * 300  # 3007 characters without a space
    text = f"## Pi\n\nThe output is similar to this:\n\n```\n{token}\n```\n\nThat is pi.\n"
    doc = doc_of(text)
    chunks = chunk_document(doc, max_chars=1000, overlap_chars=100)
    check_invariants(doc, chunks, 1000)
    assert uncovered(doc, chunks) == ""


def test_tiny_section_merges_into_its_subsection() -> None:
    text = "## A\n\nShort intro.\n\n### A1\n\n" + PROSE + "\n"
    chunks = chunk_document(doc_of(text))
    assert len(chunks) == 1
    assert chunks[0].heading_path == ("A", "A1")
    assert chunks[0].text.startswith("Short intro.\n\n### A1\n\n")


def test_tiny_section_merges_into_next_sibling_keeping_its_heading() -> None:
    text = "## A\n\n" + PROSE + "\n\n## B\n\nTiny.\n\n## C\n\n" + PROSE + "\n"
    chunks = chunk_document(doc_of(text))
    assert [c.heading_path for c in chunks] == [("A",), ("C",)]
    assert chunks[1].text.startswith("## B\n\nTiny.\n\n## C\n\n")


def test_tiny_last_section_merges_into_previous_chunk() -> None:
    text = "## A\n\n" + PROSE + "\n\n### A1\n\nSee also: pods.\n"
    chunks = chunk_document(doc_of(text))
    assert len(chunks) == 1
    assert chunks[0].heading_path == ("A",)
    assert chunks[0].text.endswith("### A1\n\nSee also: pods.")


def test_tiny_document_is_one_chunk_and_empty_is_none() -> None:
    assert [c.text for c in chunk_document(doc_of("Only this."))] == ["Only this."]
    assert chunk_document(doc_of("")) == []
    assert chunk_document(doc_of("\n\n  \n")) == []
    assert chunk_document(doc_of("## Heading only\n\n### And another\n")) == []


def test_chunking_is_deterministic() -> None:
    doc = doc_of("## A\n\n" + PROSE * 40)
    assert chunk_document(doc, max_chars=500) == chunk_document(doc, max_chars=500)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_chars": 0}, "max_chars"),
        ({"max_chars": -5}, "max_chars"),
        ({"overlap_chars": -1}, "overlap_chars"),
        ({"max_chars": 200, "overlap_chars": 200}, "overlap_chars"),
        ({"min_chars": -1}, "min_chars"),
        ({"max_chars": 100, "overlap_chars": 10, "min_chars": 101}, "min_chars"),
        ({"max_chars": 12.5}, "max_chars"),
        ({"overlap_chars": True}, "overlap_chars"),
    ],
)
def test_invalid_arguments_raise_invalid_input(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidInput, match=name) as info:
        chunk_document(doc_of(PROSE), **kwargs)
    assert str(kwargs[name]) in info.value.message


def _real_docs(k8s_docs: Path, count: int) -> list[ParsedDocument]:
    paths = sorted(k8s_docs.rglob("*.md"))
    step = max(1, len(paths) // count)
    chosen = paths[::step][:count]
    return [
        parse_markdown(p.read_text(encoding="utf-8", errors="replace"), str(p), p.stem)
        for p in chosen
    ]


def test_offsets_sizes_and_coverage_on_50_real_pages(k8s_docs: Path) -> None:
    docs = _real_docs(k8s_docs, 50)
    assert len(docs) == 50
    total = 0
    for doc in docs:
        chunks = chunk_document(doc)
        check_invariants(doc, chunks, 1200)
        assert uncovered(doc, chunks) == "", doc.source_path
        total += len(chunks)
    assert total > 50


@pytest.mark.parametrize(("max_chars", "overlap"), [(400, 60), (2000, 300)])
def test_other_sizes_on_real_pages(k8s_docs: Path, max_chars: int, overlap: int) -> None:
    for doc in _real_docs(k8s_docs, 25):
        check_invariants(doc, chunk_document(doc, max_chars, overlap), max_chars)


def test_deployment_page_rollback_chunk(k8s_docs: Path) -> None:
    path = k8s_docs / "concepts/workloads/controllers/deployment.md"
    doc = parse_markdown(path.read_text(), "concepts/workloads/controllers/deployment.md", "dep")
    chunks = chunk_document(doc)
    check_invariants(doc, chunks, 1200)
    rollback = [
        c
        for c in chunks
        if "Rolling Back a Deployment" in c.heading_path and "kubectl rollout undo" in c.text
    ]
    assert rollback
    paths = {c.heading_path for c in chunks}
    assert ("Rolling Back a Deployment", "Checking Rollout History of a Deployment") in paths
    assert ("Rolling Back a Deployment", "Rolling Back to a Previous Revision") in paths
