"""Plain text to a :class:`ParsedDocument`: the file as written, with newlines normalised.

Blank lines already separate paragraphs in most text files, which is what the chunker splits
on; nothing else is interpreted.
"""

from __future__ import annotations

import codecs
import hashlib
from pathlib import PurePath

from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput

MAX_TITLE = 120


def decode_text(raw: bytes) -> str:
    """UTF-8 (or UTF-16 with a BOM); undecodable bytes become U+FFFD rather than failing."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
    else:
        text = raw.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_text(raw: bytes, source_path: str, doc_id: str) -> ParsedDocument:
    """Parse one text file; the title is its first non-empty line, else the file name."""
    text = decode_text(raw)
    if "\x00" in text:
        raise InvalidInput(f"{PurePath(source_path).name}: binary data, not a text file")
    text = text.rstrip()
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if len(first) > MAX_TITLE:
        first = first[:MAX_TITLE].rsplit(" ", 1)[0].rstrip() + "..."
    return ParsedDocument(
        doc_id=doc_id,
        title=first or PurePath(source_path).stem,
        source_path=source_path,
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )
