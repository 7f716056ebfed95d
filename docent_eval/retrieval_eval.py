"""Evaluate retrieval end to end in process: chunk, embed and index a corpus, then search.

The same code serves in production runs here (semantic chunker, embedder, RetrievalCore with
its configured dense index, BM25 engine and fusion, cross-encoder), without the network, so
the figures measure retrieval and not gRPC. The built index is cached under
``<DOCENT_HOME>/eval/<fingerprint>`` (corpus, chunking and embedding settings), so evaluating
the four modes embeds the corpus once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from docentlib.chunking.factory import chunker_from_settings
from docentlib.datasets import Corpus
from docentlib.documents.types import ParsedDocument, TextChunk
from docentlib.errors import InvalidInput
from docentlib.metrics import documents_from_chunks, percentile, summarise
from docentlib.passages import embedding_text, rerank_text
from docentlib.ranking import blend_rerank
from services.embedding.core import Embedder
from services.ingestion.settings import IngestSettings
from services.retrieval.core import RetrievalCore
from services.retrieval.settings import RetrievalSettings
from services.retrieval.types import ChunkRecord, DocumentRecord, SearchHit, SearchMode

log = logging.getLogger(__name__)

MODES = ("sparse", "dense", "hybrid", "hybrid+rerank")
CHUNKER_VERSION = 2  # bump when chunking changes, so cached indexes are rebuilt
CHUNK_DEPTH = 300  # chunks fetched per query: enough distinct documents for recall@100


@dataclass
class EvalReport:
    mode: str
    queries: int
    metrics: dict[str, float]
    latencies_ms: list[float] = field(repr=False, default_factory=list)

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            **{k: round(v, 4) for k, v in self.metrics.items()},
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
            "mode": self.mode,
            "queries": self.queries,
        }


class EvalIndex:
    """A corpus indexed once per fingerprint; ``search`` returns ranked document keys."""

    def __init__(
        self,
        corpus: Corpus,
        cache_root: Path,
        embedder: Embedder,
        ingest: IngestSettings,
        retrieval: RetrievalSettings,
    ) -> None:
        self.corpus = corpus
        self.embedder = embedder
        key = json.dumps(
            [
                CHUNKER_VERSION,
                corpus.fingerprint(),
                ingest.tokenizer,
                ingest.max_tokens,
                ingest.min_tokens,
                ingest.overlap_tokens,
                ingest.semantic,
                embedder.model_id,
                embedder.dtype,
                retrieval.dense_index,
            ]
        )
        self.directory = cache_root / hashlib.sha256(key.encode()).hexdigest()[:16]
        settings = retrieval.model_copy(
            update={"data_dir": self.directory, "max_k": max(retrieval.max_k, CHUNK_DEPTH)}
        )
        self.core = RetrievalCore(settings)
        self._ingest = ingest

    def build(self, progress: bool = True) -> tuple[int, int, float]:
        """Index every document not indexed yet; returns (documents, chunks, seconds)."""
        done = self.directory / "complete"
        if done.exists():
            stats = self.core.stats()
            return stats["documents"], stats["chunks"], 0.0
        chunker = chunker_from_settings(self._ingest)
        have = {d.doc_id for d in self.core.list_documents()}
        start = time.perf_counter()
        pending: list[tuple[ParsedDocument, list[TextChunk]]] = []
        with tqdm(desc="index", unit="doc", disable=not progress) as bar:
            for doc in self.corpus.documents():
                bar.update(1)
                if doc.doc_id in have:
                    continue
                chunks = chunker.chunk(doc)
                if chunks:
                    pending.append((doc, chunks))
                if sum(len(c) for _, c in pending) >= 256:
                    self._flush(pending)
            self._flush(pending)
        done.write_text("ok")
        stats = self.core.stats()
        return stats["documents"], stats["chunks"], time.perf_counter() - start

    def _flush(self, pending: list[tuple[ParsedDocument, list[TextChunk]]]) -> None:
        """Embed the pending documents' chunks (one length-sorted batch) and upsert them."""
        if not pending:
            return
        vectors = self.embedder.embed([embedding_text(d, c) for d, cs in pending for c in cs])
        records, offset = [], 0
        for doc, chunks in pending:
            records.append(
                DocumentRecord(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    source_path=doc.source_path,
                    content_hash=doc.content_hash,
                    chunks=tuple(
                        ChunkRecord(
                            chunk_id=c.chunk_id,
                            text=c.text,
                            heading_path=c.heading_path,
                            char_start=c.char_start,
                            char_end=c.char_end,
                            vector=vectors[offset + n],
                        )
                        for n, c in enumerate(chunks)
                    ),
                )
            )
            offset += len(chunks)
        self.core.upsert(records)
        pending.clear()

    def search(self, query: str, mode: str, depth: int = CHUNK_DEPTH) -> list[SearchHit]:
        vector = None
        if mode != "sparse":
            vector = self.embedder.embed([query])[0]
        retrieval_mode = SearchMode.HYBRID if mode.startswith("hybrid") else SearchMode(mode)
        return self.core.search(query, vector, depth, retrieval_mode)

    def close(self) -> None:
        self.core.close()


Rerank = Callable[[str, Sequence[str]], Sequence[float]]


def evaluate(
    index: EvalIndex,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    mode: str,
    rerank: Rerank | None = None,
    rerank_top_n: int = 30,
    rerank_weight: float = 1.0,
    progress: bool = True,
) -> EvalReport:
    """Search every judged query and score the document rankings."""
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "hybrid+rerank" and rerank is None:
        raise InvalidInput("hybrid+rerank needs a reranker (--reranker PATH)")
    judged = [qid for qid in qrels if qid in queries]
    if not judged:
        raise InvalidInput("no query in the qrels file has a text in the queries file")
    runs: dict[str, list[str]] = {}
    latencies: list[float] = []
    for qid in tqdm(judged, desc=mode, unit="query", disable=not progress):
        start = time.perf_counter()
        hits = index.search(queries[qid], mode)
        if rerank is not None and mode == "hybrid+rerank":
            hits = _reranked(queries[qid], hits, rerank, rerank_top_n, rerank_weight)
        latencies.append((time.perf_counter() - start) * 1000)
        keys = [index.corpus.key(h.doc_id, h.source_path) for h in hits]
        runs[qid] = documents_from_chunks(keys)
    return EvalReport(mode, len(judged), summarise(runs, qrels), latencies)


def _reranked(
    query: str, hits: list[SearchHit], rerank: Rerank, top_n: int, weight: float
) -> list[SearchHit]:
    head = hits[:top_n]
    # The same passage text the gateway sends and the trainer used: title > headings, then text.
    scores = rerank(query, [rerank_text(h.title, h.heading_path, h.text) for h in head])
    order = blend_rerank(list(range(len(head))), list(scores), weight)
    return [head[i] for i in order] + hits[top_n:]


def load_reranker(path: Path | None):
    """The scoring function of the cross-encoder at ``path``, else of what the reranking
    service serves: its trained model, or the packaged MiniLM with the MaxSim head."""
    from docentlib.errors import InvalidInput
    from services.reranking.core import Reranker
    from services.reranking.settings import RerankingSettings

    # An explicit path must hold a model: no silent fallback to the default.
    settings = RerankingSettings(model_path=path, default_model="") if path else RerankingSettings()
    model = Reranker.load(settings)
    if model is None:
        where = settings.resolved_model_path()
        raise InvalidInput(f"no cross-encoder at {where}; train one with: docent train reranker")
    return model.score
