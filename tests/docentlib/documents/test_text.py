"""parse_text: a text file is taken as written; only newlines and the title are derived."""

from __future__ import annotations

import hashlib

import pytest

from docentlib.documents.parsers.text import MAX_TITLE, parse_text
from docentlib.errors import InvalidInput


def parse(raw: bytes, source_path: str = "notes/release-notes.txt"):
    return parse_text(raw, source_path=source_path, doc_id="notes/release-notes")


def test_text_as_written_with_first_line_as_title() -> None:
    raw = b"\r\n  Release notes 1.31  \r\n\r\nPods now start faster.\rSee #1234.\r\n\r\n"
    doc = parse(raw)
    assert doc.title == "Release notes 1.31"
    assert doc.text == "\n  Release notes 1.31  \n\nPods now start faster.\nSee #1234."
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()
    assert (doc.doc_id, doc.source_path) == ("notes/release-notes", "notes/release-notes.txt")


def test_long_first_line_is_capped_at_a_word() -> None:
    title = parse(("word " * 100).encode()).title
    assert len(title) <= MAX_TITLE + 3 and title.endswith("word...")


def test_empty_file_takes_its_name() -> None:
    doc = parse(b"  \n\n")
    assert (doc.title, doc.text) == ("release-notes", "")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\xef\xbb\xbfwith bom", "with bom"),
        ("utf-16 \u00e9".encode("utf-16"), "utf-16 \u00e9"),
        (b"latin-1 caf\xe9", "latin-1 caf\ufffd"),
    ],
)
def test_decoding(raw: bytes, text: str) -> None:
    assert parse(raw).text == text


def test_binary_file_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"^release-notes\.txt: binary data"):
        parse(b"\x7fELF\x02\x01\x01\x00\x00\x00")
