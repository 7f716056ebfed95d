"""Discovery: which files under a root are documents, and the stable ids they are indexed by."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from docentlib.documents.parsers.registry import SUFFIXES, parse_bytes
from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput

DEFAULT_SUFFIXES = SUFFIXES  # every format a parser exists for: .md .markdown .pdf .html .htm .txt


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A document on disk; ``doc_id`` is derived from its path so re-ingestion replaces it."""

    path: Path
    rel_path: str
    doc_id: str


def _matches(name: str, suffixes: tuple[str, ...]) -> bool:
    return name.lower().endswith(suffixes)


def _doc_id(rel_path: str, suffixes: tuple[str, ...]) -> str:
    lowered = rel_path.lower()
    for suffix in sorted(suffixes, key=len, reverse=True):
        if lowered.endswith(suffix):
            return rel_path[: -len(suffix)]
    return rel_path


def discover(root: Path, suffixes: Iterable[str] = DEFAULT_SUFFIXES) -> list[SourceFile]:
    """Documents under ``root`` (a folder, walked in sorted order, or a single file).

    Hidden files and folders (``.git``, ``.github``, ...) are skipped. A folder gives ids that
    are POSIX paths relative to it without the suffix (``concepts/workloads/pods``); a single
    file gives its stem.
    """
    wanted = tuple(s.lower() if s.startswith(".") else f".{s.lower()}" for s in suffixes)
    if not wanted:
        raise InvalidInput("suffixes must name at least one file suffix, e.g. '.md'")
    root = Path(root)
    if root.is_file():
        if not _matches(root.name, wanted):
            raise InvalidInput(f"{root} is not a document: expected a suffix in {list(wanted)}")
        return [SourceFile(root, root.name, _doc_id(root.name, wanted))]
    if not root.is_dir():
        raise InvalidInput(f"document root {root} does not exist (or is not a file or folder)")
    found: dict[str, SourceFile] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or not _matches(name, wanted):
                continue
            path = Path(folder, name)
            rel_path = path.relative_to(root).as_posix()
            doc_id = _doc_id(rel_path, wanted)
            if doc_id in found:
                raise InvalidInput(
                    f"{found[doc_id].rel_path} and {rel_path} would share doc_id {doc_id!r}; "
                    "rename or remove one of them"
                )
            found[doc_id] = SourceFile(path, rel_path, doc_id)
    return sorted(found.values(), key=lambda sf: sf.rel_path)


def load_document(source: SourceFile) -> ParsedDocument:
    """Read a source file's bytes and parse them with the parser its suffix names.

    Raises :class:`InvalidInput` (or ``OSError``) for a file that cannot be read or parsed;
    the ingest run records it as failed and goes on.
    """
    return parse_bytes(source.path.read_bytes(), source.rel_path, source.doc_id)
