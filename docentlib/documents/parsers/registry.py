"""Which parser reads which file: one table keyed by suffix, the only place formats are listed.

Every parser takes the file's raw bytes (so ``content_hash`` can be of what is on disk) and
returns a :class:`ParsedDocument`, raising :class:`InvalidInput` for a file it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable

from docentlib.documents.parsers.html import parse_html
from docentlib.documents.parsers.markdown import parse_markdown
from docentlib.documents.parsers.pdf import parse_pdf
from docentlib.documents.parsers.text import parse_text
from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput

Parser = Callable[[bytes, str, str], ParsedDocument]


def parse_markdown_bytes(raw: bytes, source_path: str, doc_id: str) -> ParsedDocument:
    """Markdown from bytes exactly as ``Path.read_text(encoding='utf-8', errors='replace')``
    gave it before the other formats existed, so stored content hashes stay valid."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return parse_markdown(text, source_path=source_path, doc_id=doc_id)


PARSERS: dict[str, Parser] = {
    ".md": parse_markdown_bytes,
    ".markdown": parse_markdown_bytes,
    ".pdf": parse_pdf,
    ".html": parse_html,
    ".htm": parse_html,
    ".txt": parse_text,
}
SUFFIXES: tuple[str, ...] = tuple(PARSERS)


def parser_for(source_path: str) -> Parser:
    """The parser for a file name (suffix compared case-insensitively)."""
    lowered = source_path.lower()
    for suffix in sorted(PARSERS, key=len, reverse=True):
        if lowered.endswith(suffix):
            return PARSERS[suffix]
    raise InvalidInput(
        f"{source_path}: unsupported document type; supported suffixes: {', '.join(SUFFIXES)}"
    )


def parse_bytes(raw: bytes, source_path: str, doc_id: str) -> ParsedDocument:
    """Parse a file's bytes with the parser its suffix names.

    Usage::

        doc = parse_bytes(Path("guide.pdf").read_bytes(), "guide.pdf", "guide")
    """
    return parser_for(source_path)(raw, source_path, doc_id)
