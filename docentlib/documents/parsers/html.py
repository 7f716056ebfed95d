"""HTML to a :class:`ParsedDocument` in the markdown shape the chunker splits.

Page chrome (scripts, styles, navigation, headers, footers, asides) goes; ``h1``-``h6`` become
ATX headings and every block (paragraph, list item, table row, quote) a blank-line separated
paragraph, so a page chunks like the markdown it was probably rendered from. ``pre`` keeps its
lines in a fenced block. Uses only the standard library's forgiving ``html.parser``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from html.parser import HTMLParser
from pathlib import PurePath

from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput

SKIPPED = frozenset(
    {"script", "style", "nav", "header", "footer", "aside", "noscript", "template", "svg"}
)
BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "form", "head", "hr", "html", "li",
        "main", "ol", "p", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BR = "\x1e"  # stands for <br> inside a paragraph until whitespace is collapsed
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_MAX_TITLE = 200


def parse_html(raw: bytes, source_path: str, doc_id: str) -> ParsedDocument:
    """Parse one HTML page; ``content_hash`` is the sha256 of the file's bytes."""
    extractor = _Extractor()
    extractor.feed(decode_html(raw))
    extractor.close()
    text = "\n\n".join(extractor.blocks)
    if not text.strip():
        raise InvalidInput(
            f"{PurePath(source_path).name}: no readable text in the page "
            "(empty, or rendered by JavaScript?)"
        )
    title = extractor.title or extractor.first_h1 or PurePath(source_path).stem
    return ParsedDocument(
        doc_id=doc_id,
        title=title[:_MAX_TITLE],
        source_path=source_path,
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def decode_html(raw: bytes) -> str:
    """Bytes to text: a BOM wins, then a ``<meta charset>`` in the first 4 KiB, then UTF-8."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    encoding = "utf-8"
    if match := _META_CHARSET.search(raw[:4096]):
        try:
            name = codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            name = "utf-8"
        # As browsers do: a page that declares UTF-16 but parsed as ASCII is UTF-8, and
        # latin-1/ASCII labels mean windows-1252.
        encoding = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(name, name)
        if encoding.startswith(("utf-16", "utf-32")):
            encoding = "utf-8"
    return raw.decode(encoding, errors="replace").replace("\r\n", "\n").replace("\r", "\n")


class _Extractor(HTMLParser):
    """Collects blocks of text; one instance per page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self.first_h1 = ""
        self._skip = 0
        self._in_title = False
        self._title_parts: list[str] = []
        self._heading = 0
        self._pre = 0
        self._pre_parts: list[str] = []
        self._inline: list[str] = []
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skip += 1
        if self._skip:
            return
        if tag == "title":
            self._in_title = True
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif self._pre:
            return
        elif tag in HEADINGS:
            self._flush()
            self._heading = HEADINGS[tag]
        elif tag == "br":
            self._inline.append(_BR)
        elif tag in ("td", "th"):
            if self._cells:
                self._inline.append(" | ")
            self._cells += 1
        elif tag in BLOCKS:
            self._flush()
            if tag == "li":
                self._inline.append("- ")
        elif tag == "code":
            self._inline.append("`")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = False
            self.title = self.title or _collapse("".join(self._title_parts))
        elif tag == "pre" and self._pre:
            self._pre -= 1
            if not self._pre:
                self._emit_pre()
        elif self._pre:
            return
        elif tag in HEADINGS:
            self._flush()
        elif tag == "code":
            self._inline.append("`")
        elif tag in BLOCKS and tag not in ("td", "th"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self._title_parts.append(data)
        elif self._pre:
            self._pre_parts.append(data)
        else:
            self._inline.append(data.replace(_BR, " "))

    def close(self) -> None:
        super().close()
        if self._pre:
            self._emit_pre()
        self._flush()

    def _flush(self) -> None:
        """End the current block: a heading or a paragraph (empty ones leave nothing)."""
        raw, level = "".join(self._inline), self._heading
        self._inline, self._heading, self._cells = [], 0, 0
        lines = [_collapse(line) for line in raw.split(_BR)]
        text = "\n".join(line for line in lines if line)
        if text in ("", "-", "``"):
            return
        if level:
            heading = " ".join(text.split())
            self.first_h1 = self.first_h1 or (heading if level == 1 else "")
            self.blocks.append(f"{'#' * level} {heading}")
        else:  # a paragraph that starts like markdown syntax must not become a heading or fence
            self.blocks.append("\\" + text if text.startswith(("#", "```", "~~~")) else text)

    def _emit_pre(self) -> None:
        self._flush()
        body = "".join(self._pre_parts).removeprefix("\n").rstrip()
        self._pre_parts, self._pre = [], 0
        if not body.strip():
            return
        fence = "```"
        while fence in body:
            fence += "`"
        self.blocks.append(f"{fence}\n{body}\n{fence}")


def _collapse(text: str) -> str:
    return " ".join(text.split())
