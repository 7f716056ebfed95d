"""parse_pdf on PDFs the tests write: text per page, titles, outline headings, clear refusals."""

from __future__ import annotations

import hashlib

import pytest

from docentlib.documents.parsers.pdf import parse_pdf
from docentlib.errors import InvalidInput
from tests.docentlib.documents.pdfs import encrypted, make_pdf, with_outline

GUIDE = [
    ["Pod basics", "A Pod is the smallest (deployable) unit.", "It runs one or more containers."],
    [],
    ["Scaling", "Run kubectl scale deployment/web --replicas=3."],
]


def parse(raw: bytes, source_path: str = "guides/pod-guide.pdf"):
    return parse_pdf(raw, source_path=source_path, doc_id="guides/pod-guide")


def test_pages_are_paragraphs_and_metadata_gives_the_title() -> None:
    raw = make_pdf(GUIDE, title="The Pod Guide")
    doc = parse(raw)
    assert doc.title == "The Pod Guide"
    assert doc.text == (
        "Pod basics\nA Pod is the smallest (deployable) unit.\nIt runs one or more containers."
        "\n\nScaling\nRun kubectl scale deployment/web --replicas=3."
    )  # the empty middle page leaves no extra blank lines
    assert (doc.doc_id, doc.source_path) == ("guides/pod-guide", "guides/pod-guide.pdf")
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()


def test_title_falls_back_to_first_line() -> None:
    assert parse(make_pdf(GUIDE)).title == "Pod basics"


def test_outline_entries_become_headings_where_they_start() -> None:
    pages = [
        ["Intro", "Pods hold containers."],
        ["Scaling", "Use replicas.", "Autoscaling", "The HPA scales on CPU."],
    ]
    outline = [
        ("Intro", 0, None),
        ("Scaling", 1, None),
        ("Autoscaling", 1, "Scaling"),
        ("Not on the page", 1, None),  # its text is nowhere: it opens its page
    ]
    assert parse(with_outline(make_pdf(pages), outline)).text == (
        "# Intro\n\nPods hold containers.\n\n"
        "# Not on the page\n\n# Scaling\n\nUse replicas.\n\n"
        "## Autoscaling\n\nThe HPA scales on CPU."
    )


def test_pdf_with_empty_user_password_opens() -> None:
    doc = parse(encrypted(make_pdf(GUIDE), user_password=""))
    assert doc.text.startswith("Pod basics\nA Pod is the smallest")


def test_password_protected_pdf_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"pod-guide\.pdf: the PDF is password-protected"):
        parse(encrypted(make_pdf(GUIDE), user_password="s3cret"))


def test_pdf_without_text_layer_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"pod-guide\.pdf: no extractable text \(scanned PDF"):
        parse(make_pdf([[], []]))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (make_pdf(GUIDE)[:300], "not a readable PDF"),  # truncated mid-object
        (b"%PDF-1.7\n" + bytes(range(256)) * 8, "not a readable PDF"),  # garbage after header
        (b"", "not a PDF file"),
        (b"<html>renamed</html>", "not a PDF file"),
    ],
    ids=["truncated", "garbage", "empty", "not-pdf"],
)
def test_broken_pdfs_raise_invalid_input_naming_the_file(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=rf"^pod-guide\.pdf: {reason}"):
        parse(raw)
