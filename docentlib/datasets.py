"""Evaluation inputs: BEIR files (corpus.jsonl, queries.jsonl, qrels .tsv) or a folder of docs.

Qrels are read the way BEIR ships them and people edit them: tab- or space-separated, CRLF or
LF, with or without a header line; a malformed line is an error naming its line number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docentlib.documents.discovery import discover, load_document
from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InvalidInput(f"{path}:{number}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or "_id" not in row:
                raise InvalidInput(f'{path}:{number}: expected an object with "_id"')
            yield number, row


def load_queries(path: Path) -> dict[str, str]:
    """Query id -> text from a jsonl of ``{"_id", "text"}``."""
    queries: dict[str, str] = {}
    for number, row in _jsonl(path):
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f'{path}:{number}: "text" must be a non-empty string')
        queries[str(row["_id"])] = text
    if not queries:
        raise InvalidInput(f"{path} has no queries")
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Query id -> {document id: grade}; grades <= 0 are kept out (not relevant)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.strip().split("\t") if "\t" in line else line.split()
        if not fields or not line.strip():
            continue
        if len(fields) == 4:  # TREC style: qid, iteration, docid, grade
            fields = [fields[0], fields[2], fields[3]]
        if len(fields) != 3:
            raise InvalidInput(f"{path}:{number}: expected query-id, corpus-id, score")
        qid, doc, grade = (f.strip() for f in fields)
        try:
            value = int(float(grade))
        except ValueError:
            if number == 1:
                continue  # the header line
            raise InvalidInput(f"{path}:{number}: score {grade!r} is not a number") from None
        if value > 0:
            qrels.setdefault(qid, {})[doc] = value
    if not qrels:
        raise InvalidInput(f"{path} has no relevance judgements with a score > 0")
    return qrels


@dataclass(frozen=True)
class Corpus:
    """Documents to index; ``key`` is what qrels call a document (its id, or its path)."""

    path: Path
    kind: str  # "beir" or "folder"

    @classmethod
    def open(cls, path: Path) -> Corpus:
        if path.is_dir():
            return cls(path, "folder")
        if path.is_file() and path.suffix == ".jsonl":
            return cls(path, "beir")
        raise InvalidInput(f"--corpus must be a BEIR corpus.jsonl or a folder, got {path}")

    def documents(self) -> Iterator[ParsedDocument]:
        if self.kind == "folder":
            for source in discover(self.path):
                yield load_document(source)
            return
        for number, row in _jsonl(self.path):
            text = row.get("text")
            if not isinstance(text, str):
                raise InvalidInput(f'{self.path}:{number}: "text" must be a string')
            doc_id = str(row["_id"])
            title = str(row.get("title") or "")
            digest = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
            yield ParsedDocument(doc_id, title or doc_id, doc_id, text, digest)

    def key(self, doc_id: str, source_path: str) -> str:
        """BEIR qrels name documents by id; folder qrels by path relative to the folder."""
        return source_path if self.kind == "folder" else doc_id

    def fingerprint(self) -> str:
        """Changes when the corpus does (sizes and modification times of its files)."""
        files = [self.path] if self.kind == "beir" else sorted(self.path.rglob("*"))
        digest = hashlib.sha256(self.kind.encode())
        for f in files:
            if f.is_file():
                stat = f.stat()
                digest.update(f"{f}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]
