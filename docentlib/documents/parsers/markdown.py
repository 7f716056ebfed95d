"""Markdown (Hugo flavour) to a :class:`ParsedDocument` whose text is what a reader sees.

Front matter, HTML comments and shortcode tags go; shortcode text a reader would see stays;
code fences stay verbatim (commands like ``kubectl rollout undo`` are what users ask about).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath

from docentlib.documents.fences import FenceTracker
from docentlib.documents.parsers.frontmatter import split_front_matter
from docentlib.documents.parsers.shortcodes import DROPPED, render_shortcodes
from docentlib.documents.types import ParsedDocument

_H1 = re.compile(r"^ {0,3}# +(.+?)(?:[ \t]+#+)?[ \t]*$")


def parse_markdown(raw: str, source_path: str, doc_id: str) -> ParsedDocument:
    """Parse one markdown file; ``content_hash`` is the sha256 of ``raw`` as UTF-8."""
    content_hash = hashlib.sha256(raw.encode("utf-8", errors="surrogatepass")).hexdigest()
    text = raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    meta, body = split_front_matter(text)
    body = _clean(render_shortcodes(body.replace(DROPPED, "")))
    title = _title(meta.get("title"), body, source_path)
    return ParsedDocument(
        doc_id=doc_id, title=title, source_path=source_path, text=body, content_hash=content_hash
    )


def _strip_comments(line: str) -> tuple[str, bool]:
    """Remove ``<!-- -->`` from one prose line; True when a comment stays open at its end."""
    while (start := line.find("<!--")) != -1:
        end = line.find("-->", start + 4)
        if end == -1:
            return line[:start] + DROPPED, True
        line = line[:start] + DROPPED + line[end + 3 :]
    return line, False


def _clean(text: str) -> str:
    """Drop HTML comments outside code, lines emptied by removals, and runs of blank lines."""
    out: list[str] = []
    tracker = FenceTracker()
    in_comment = False
    for line in text.split("\n"):
        if in_comment:
            end = line.find("-->")
            if end == -1:
                continue
            line, in_comment, code = DROPPED + line[end + 3 :], False, False
        else:
            code = tracker.update(line)
        if not code:
            line, in_comment = _strip_comments(line)
        if DROPPED in line:
            line = line.replace(DROPPED, "")
            if not line.strip():
                if code:
                    continue  # a removed tag inside code leaves no trace
                line = ""
        if not code and not line.strip():
            if not out or out[-1] == "":
                continue  # collapse blank runs and drop leading blank lines
            line = ""
        out.append(line)
    return "\n".join(out).rstrip()


def _title(meta_title: object, body: str, source_path: str) -> str:
    """Front matter title, else the first ``# `` heading outside code, else the file name."""
    if meta_title is not None and str(meta_title).strip():
        return str(meta_title).strip()
    tracker = FenceTracker()
    for line in body.split("\n"):
        if not tracker.update(line) and (match := _H1.match(line)):
            return match.group(1).strip()
    path = PurePath(source_path)
    stem = path.stem
    if stem in {"_index", "index", "README", "readme"} and path.parent.name:
        stem = path.parent.name
    words = re.sub(r"[-_\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else source_path
