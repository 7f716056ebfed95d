"""PDF to a :class:`ParsedDocument`: the text layer page by page, outline entries as headings.

Chunking splits at markdown headings and blank lines, so pages are joined with a blank line and
each outline (bookmark) entry becomes an ATX heading where its text starts on its page. A PDF
that cannot be read, is locked with a password, or has no text layer (a scan) is rejected with
an :class:`InvalidInput` naming the file and the reason, never a pypdf traceback.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import PurePath

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput

_MAX_TITLE = 200
# pypdf logs each repair of a damaged file; what matters (text or InvalidInput) is reported.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    title: str
    page: int


def parse_pdf(raw: bytes, source_path: str, doc_id: str) -> ParsedDocument:
    """Parse one PDF; ``content_hash`` is the sha256 of the file's bytes."""
    name = PurePath(source_path).name
    if b"%PDF-" not in raw[:1024]:  # readers allow junk before the header
        raise InvalidInput(f"{name}: not a PDF file (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(raw))
        _unlock(reader, name)
        pages = [_page_text(page) for page in reader.pages]
        headings = _outline(reader)
        meta_title = _meta_title(reader)
    except InvalidInput:
        raise
    except RecursionError:
        raise InvalidInput(f"{name}: not a readable PDF (objects nest too deeply)") from None
    except Exception as exc:  # pypdf on a damaged file can raise almost anything (zlib, struct)
        raise InvalidInput(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not pages:
        raise InvalidInput(f"{name}: the PDF has no pages")
    if not any(p.strip() for p in pages):
        raise InvalidInput(f"{name}: no extractable text (scanned PDF? it needs OCR first)")
    text = "\n\n".join(p for p in _place_headings(pages, headings) if p)
    title = meta_title or _first_line(text) or PurePath(source_path).stem
    return ParsedDocument(
        doc_id=doc_id,
        title=title,
        source_path=source_path,
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def _unlock(reader: PdfReader, name: str) -> None:
    """Open PDFs that are encrypted with an empty user password (common); refuse the rest."""
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except PyPdfError as exc:  # e.g. AES without the optional crypto package
        raise InvalidInput(f"{name}: encrypted PDF that cannot be opened ({exc})") from None
    if not opened:
        raise InvalidInput(f"{name}: the PDF is password-protected; remove the password first")


def _page_text(page) -> str:
    """One page's text with trailing spaces and runs of blank lines removed."""
    lines = [line.rstrip() for line in (page.extract_text() or "").replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def _meta_title(reader: PdfReader) -> str | None:
    meta = reader.metadata
    title = str(meta.title).strip() if meta is not None and meta.title else ""
    return title[:_MAX_TITLE] or None


def _outline(reader: PdfReader) -> list[_Heading]:
    """Outline entries that point at a page, in reading order, with their nesting depth."""
    found: list[_Heading] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            page = reader.get_destination_page_number(item) if title else None
            if title and page is not None and page >= 0:
                found.append(_Heading(min(level, 6), title, page))

    walk(reader.outline, 1)
    return sorted(found, key=lambda h: h.page)  # stable: keeps outline order within a page


def _place_headings(pages: list[str], headings: list[_Heading]) -> list[str]:
    """Turn the line where each heading's text starts into ``# title``; else open the page."""
    pages = list(pages)
    for heading in reversed(headings):  # reversed so inserted lines keep page order
        lines = pages[heading.page].split("\n")
        key = _norm(heading.title)
        at = next((i for i, line in enumerate(lines) if _norm(line) == key), None)
        marker = f"{'#' * heading.level} {heading.title}"
        if at is None:
            lines.insert(0, marker)
        else:
            lines[at] = marker
        pages[heading.page] = "\n".join(lines)
    return [_blank_around_headings(p) for p in pages]


def _blank_around_headings(page: str) -> str:
    out: list[str] = []
    for line in page.split("\n"):
        if line.startswith("#") and re.match(r"#{1,6} ", line):
            if out and out[-1] != "":
                out.append("")
            out.extend([line, ""])
        elif line or (out and out[-1] != ""):
            out.append(line)
    return "\n".join(out).strip("\n")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _first_line(text: str) -> str | None:
    for line in text.split("\n"):
        if line.strip():
            return line.strip().lstrip("#").strip()[:_MAX_TITLE] or None
    return None
