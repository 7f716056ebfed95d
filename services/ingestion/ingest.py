"""The ingestion pipeline: files -> parse -> chunk -> Embedding.Embed -> Retrieval.Upsert.

Documents whose content hash the index already holds are skipped before any embedding work, so
re-ingesting an unchanged folder costs one ListDocuments call. A file that cannot be read or
parsed is reported and skipped; the rest of the run goes on. Reading, parsing and chunking are
CPU-bound and run in a worker thread, so the service's event loop keeps answering RPCs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from docent.v1 import retrieval_pb2
from docentlib.chunking.factory import chunker_from_settings
from docentlib.documents.discovery import discover, load_document
from docentlib.documents.types import ParsedDocument, TextChunk
from docentlib.passages import embedding_text
from services.ingestion.settings import IngestSettings
from services.runtime.clients import EmbeddingClient, Endpoint, RetrievalClient

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one run did; printed by ``docent ingest`` and returned to callers."""

    files: int = 0
    ingested: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        docs = self.ingested / self.seconds if self.seconds else 0.0
        chunks = self.chunks / self.seconds if self.seconds else 0.0
        return (
            f"{self.files} files: {self.ingested} ingested, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed; {self.chunks} chunks in {self.seconds:.1f}s "
            f"({docs:.2f} docs/s, {chunks:.1f} chunks/s)"
        )


def to_proto(
    doc: ParsedDocument, chunks: Sequence[TextChunk], vectors: np.ndarray
) -> retrieval_pb2.Document:
    return retrieval_pb2.Document(
        doc_id=doc.doc_id,
        title=doc.title,
        source_path=doc.source_path,
        content_hash=doc.content_hash,
        chunks=[
            retrieval_pb2.Chunk(
                chunk_id=c.chunk_id,
                text=c.text,
                heading_path=list(c.heading_path),
                char_start=c.char_start,
                char_end=c.char_end,
                vector=v.tolist(),
            )
            for c, v in zip(chunks, vectors, strict=True)
        ],
    )


class Ingestor:
    """Drives ingestion runs against running embedding and retrieval services; runs may
    overlap (each keeps its own batch).

    Usage::

        report = await Ingestor(IngestSettings()).run(Path("docs"))
    """

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.embedding = EmbeddingClient(
            Endpoint("embedding", settings.embedding_address, settings.timeout_s)
        )
        self.retrieval = RetrievalClient(
            Endpoint("retrieval", settings.retrieval_address, settings.timeout_s)
        )
        self.chunker = chunker_from_settings(settings)

    async def close(self) -> None:
        await self.embedding.close()
        await self.retrieval.close()

    async def run(self, root: Path, progress: bool = True) -> IngestReport:
        start = time.perf_counter()
        files = await asyncio.to_thread(discover, root)
        report = IngestReport(files=len(files))
        known = {d.doc_id: d.content_hash for d in await self.retrieval.list_documents()}
        batch: list[tuple[ParsedDocument, list[TextChunk]]] = []
        with tqdm(total=len(files), unit="doc", desc="ingest", disable=not progress) as bar:
            for source in files:
                bar.update(1)
                try:
                    doc = await asyncio.to_thread(load_document, source)
                    if known.get(doc.doc_id) == doc.content_hash:
                        report.unchanged += 1
                        continue
                    chunks = await asyncio.to_thread(self.chunker.chunk, doc)
                except Exception as exc:  # one bad file never stops the run
                    report.failed[source.rel_path] = f"{type(exc).__name__}: {exc}"
                    log.warning("skipped unparseable file", extra={"path": source.rel_path})
                    continue
                batch.append((doc, chunks))
                if sum(len(c) for _, c in batch) >= self.settings.batch_chunks:
                    await self._flush(batch, report)
                    bar.set_postfix(chunks=report.chunks)
            await self._flush(batch, report)
        report.seconds = time.perf_counter() - start
        return report

    async def _flush(
        self, batch: list[tuple[ParsedDocument, list[TextChunk]]], report: IngestReport
    ) -> None:
        """Embed and upsert the pending documents (each wholly, in one Upsert), then clear."""
        if not batch:
            return
        texts = [embedding_text(doc, c) for doc, chunks in batch for c in chunks]
        vectors = await self.embedding.embed(texts) if texts else np.zeros((0, 0), np.float32)
        documents, offset = [], 0
        for doc, chunks in batch:
            documents.append(to_proto(doc, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        _, n_chunks = await self.retrieval.upsert(documents)
        report.ingested += len(documents)
        report.chunks += n_chunks
        batch.clear()
