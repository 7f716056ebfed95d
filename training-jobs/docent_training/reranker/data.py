"""Training groups for the cross-encoder: a query, one relevant passage, mined hard negatives.

Two sources:

* labelled (BEIR): queries and qrels of a *train* split over a corpus; positives come from the
  qrels, negatives are the best BM25 hits that are not judged relevant.
* self-supervised (a folder of documents): each section with a heading becomes a query made
  of its title and heading path ("Deployments: Rolling back a Deployment"), and a sentence
  taken from inside a passage becomes a query for that passage; the positive is the passage,
  negatives are BM25 hits from other documents.

Hard negatives come from the same embedded BM25 engine that serves sparse retrieval, so the
model learns to fix exactly the mistakes that retrieval makes.
"""

from __future__ import annotations

import random
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from docentlib.chunking.semantic import SemanticChunker
from docentlib.chunking.tokens import TokenCounter
from docentlib.datasets import Corpus, load_qrels, load_queries
from docentlib.errors import InvalidInput
from docentlib.passages import rerank_text
from services.retrieval.sparse.tantivy_index import TantivyIndex

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Passage:
    key: str  # document id (BEIR) or chunk id (folder)
    doc: str  # the document it belongs to: negatives never come from the positive's document
    text: str  # what the cross-encoder reads (see docentlib.ranking.rerank_text)


@dataclass(frozen=True)
class Group:
    query: str
    positive: str
    negatives: tuple[str, ...]


class NegativeMiner:
    """BM25 over the passages (tantivy, in a temporary directory)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self._tmp = tempfile.TemporaryDirectory(prefix="docent-mine-")
        self._index = TantivyIndex(Path(self._tmp.name) / "bm25")
        self._index.upsert([(i, p.text, "", ()) for i, p in enumerate(self.passages)])
        self._index.commit(1)

    def negatives(self, query: str, exclude_docs: set[str], n: int, depth: int = 50) -> list[str]:
        found = []
        for i, _ in self._index.search(query, depth):
            passage = self.passages[i]
            if passage.doc not in exclude_docs:
                found.append(passage.text)
            if len(found) == n:
                break
        return found

    def close(self) -> None:
        self._index.close()
        self._tmp.cleanup()


def _fill(
    negatives: list[str], pool: Sequence[Passage], exclude: set[str], n: int, rng: random.Random
) -> tuple[str, ...]:
    """Top up with random passages when BM25 found too few (short queries, tiny corpora)."""
    tries = 0
    while len(negatives) < n and tries < 20 * n:
        tries += 1
        p = rng.choice(pool)
        if p.doc not in exclude and p.text not in negatives:
            negatives.append(p.text)
    return tuple(negatives)


def labelled_groups(
    corpus_path: Path, queries_path: Path, qrels_path: Path, negatives: int, seed: int = 0
) -> list[Group]:
    """Groups from a BEIR train split: one per (query, relevant document)."""
    corpus = Corpus.open(corpus_path)
    if corpus.kind != "beir":
        raise InvalidInput("--corpus must be a BEIR corpus.jsonl when --qrels is given")
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    passages = [
        Passage(d.doc_id, d.doc_id, rerank_text(d.title, (), d.text)) for d in corpus.documents()
    ]
    by_id = {p.key: p for p in passages}
    miner = NegativeMiner(passages)
    rng = random.Random(seed)
    groups: list[Group] = []
    try:
        for qid, relevant in tqdm(qrels.items(), desc="mine negatives", unit="query"):
            if qid not in queries:
                continue
            exclude = set(relevant)
            mined = miner.negatives(queries[qid], exclude, negatives)
            for doc_id in relevant:
                if doc_id in by_id:
                    groups.append(
                        Group(
                            queries[qid],
                            by_id[doc_id].text,
                            _fill(list(mined), passages, exclude, negatives, rng),
                        )
                    )
    finally:
        miner.close()
    if not groups:
        raise InvalidInput("no qrels line names a query and a document that exist")
    return groups


def self_supervised_groups(
    docs: Path, counter: TokenCounter, negatives: int, max_groups: int, seed: int = 0
) -> list[Group]:
    """Groups derived from a folder of documents, without any labels."""
    corpus = Corpus.open(docs)
    chunker = SemanticChunker(counter)
    passages: list[Passage] = []
    queries: list[tuple[str, Passage]] = []
    rng = random.Random(seed)
    for doc in tqdm(corpus.documents(), desc="read documents", unit="doc"):
        for chunk in chunker.chunk(doc):
            passage = Passage(
                chunk.chunk_id, doc.doc_id, rerank_text(doc.title, chunk.heading_path, chunk.text)
            )
            passages.append(passage)
            for query, body in _derived_queries(doc.title, chunk, rng):
                positive = rerank_text(doc.title, chunk.heading_path, body)
                queries.append((query, Passage(passage.key, passage.doc, positive)))
    if len(passages) < 2:
        raise InvalidInput(f"{docs} has too few passages to train on")
    rng.shuffle(queries)
    queries = queries[:max_groups]
    miner = NegativeMiner(passages)
    try:
        return [
            Group(
                query,
                passage.text,
                _fill(
                    miner.negatives(query, {passage.doc}, negatives),
                    passages,
                    {passage.doc},
                    negatives,
                    rng,
                ),
            )
            for query, passage in tqdm(queries, desc="mine negatives", unit="query")
        ]
    finally:
        miner.close()


def _derived_queries(title: str, chunk, rng: random.Random) -> Iterable[tuple[str, str]]:
    """(query, passage body) pairs: a heading query ("title: heading") with the whole chunk,
    and a sentence of the chunk as the query for the rest of it (the inverse cloze task of
    Lee et al., 2019): with the sentence removed, the model must match meaning, not words."""
    if chunk.heading_path:
        yield f"{title}: {chunk.heading_path[-1]}", chunk.text
    sentences = [
        s.strip()
        for s in _SENTENCE.split(chunk.text)
        if 40 <= len(s.strip()) <= 300 and not s.lstrip().startswith(("```", "|", "<"))
    ]
    if len(sentences) >= 3:
        sentence = rng.choice(sentences)
        yield sentence, chunk.text.replace(sentence, " ", 1)
