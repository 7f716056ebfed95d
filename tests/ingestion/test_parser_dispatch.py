"""Formats end to end: suffix -> parser, and an ingest run over a mixed folder with a broken PDF.

The run uses real embedding and retrieval servers on loopback, so "reported and skipped, the
rest goes on" is shown on the same path ``docent ingest`` takes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import pytest_asyncio

from docentlib.documents.discovery import DEFAULT_SUFFIXES, discover, load_document
from docentlib.documents.parsers import SUFFIXES, parse_bytes
from docentlib.documents.parsers.registry import parser_for
from docentlib.errors import InvalidInput
from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.ingestion.ingest import Ingestor
from services.ingestion.settings import IngestSettings
from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime import server as runtime_server
from tests.docentlib.documents.pdfs import make_pdf

FILES: dict[str, bytes] = {
    "guide.md": b"---\ntitle: Markdown guide\n---\n# Markdown guide\n\nDeployments roll out.\n",
    "manual.pdf": make_pdf([["PDF manual", "The flux capacitor needs 1.21 gigawatts."]]),
    "page.html": b"<title>HTML page</title><p>Blorptanks are refilled on Tuesdays.</p>",
    "legacy.HTM": b"<h1>Old page</h1><p>Still served.</p>",
    "notes.txt": b"Text notes\n\nQuuxwidgets never exceed 7 bar.\n",
    "more.markdown": b"# More\n\nText.\n",
    "broken.pdf": make_pdf([["Broken", "This file is cut short."]])[:250],
    "image.png": b"\x89PNG\r\n\x1a\n",
}


def write_folder(root: Path) -> Path:
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    return root


def test_every_format_is_discovered_by_default() -> None:
    assert set(DEFAULT_SUFFIXES) == set(SUFFIXES)
    assert set(SUFFIXES) == {".md", ".markdown", ".pdf", ".html", ".htm", ".txt"}


def test_load_document_dispatches_by_suffix(tmp_path: Path) -> None:
    found = {sf.rel_path: sf for sf in discover(write_folder(tmp_path))}
    assert sorted(found) == sorted(name for name in FILES if name != "image.png")
    titles = {name: load_document(sf).title for name, sf in found.items() if name != "broken.pdf"}
    assert titles == {
        "guide.md": "Markdown guide",
        "manual.pdf": "PDF manual",
        "page.html": "HTML page",
        "legacy.HTM": "Old page",
        "notes.txt": "Text notes",
        "more.markdown": "More",
    }
    assert load_document(found["legacy.HTM"]).doc_id == "legacy"
    with pytest.raises(InvalidInput, match=r"^broken\.pdf: not a readable PDF"):
        load_document(found["broken.pdf"])


def test_unknown_suffix_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=r"notes\.docx: unsupported document type.*\.pdf"):
        parser_for("notes.docx")


def test_markdown_hash_is_unchanged_by_dispatch() -> None:
    """Before formats existed, markdown was read with read_text (universal newlines)."""
    raw = b"# T\r\n\r\nBody\rmore \xff\n"
    doc = parse_bytes(raw, "t.md", "t")
    legacy = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    assert doc.content_hash == hashlib.sha256(legacy.encode("utf-8")).hexdigest()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def services(tmp_path_factory: pytest.TempPathFactory):
    """Real embedding and retrieval servers on free loopback ports, for one module."""
    data = tmp_path_factory.mktemp("retrieval-data")
    apps = [
        EmbeddingServicer(EmbeddingSettings(port=0, metrics_port=0)),
        RetrievalServicer(RetrievalSettings(port=0, metrics_port=0, data_dir=data)),
    ]
    running = []
    for app in apps:
        running.append(await runtime_server.start(app.settings, app))
        await app.load()
    yield tuple(f"127.0.0.1:{r.port}" for r in running)
    for r, app in zip(running, apps, strict=True):
        await runtime_server.stop(r, app, grace=0)


async def test_ingest_run_reports_broken_pdf_and_ingests_the_rest(
    services: tuple[str, str], tmp_path: Path
) -> None:
    embedding, retrieval = services
    ingestor = Ingestor(IngestSettings(embedding_address=embedding, retrieval_address=retrieval))
    try:
        report = await ingestor.run(write_folder(tmp_path), progress=False)
        listed = {d.doc_id: d for d in await ingestor.retrieval.list_documents()}
        again = await ingestor.run(tmp_path, progress=False)
    finally:
        await ingestor.close()
    assert (report.files, report.ingested, report.unchanged) == (7, 6, 0)
    assert list(report.failed) == ["broken.pdf"]
    assert report.failed["broken.pdf"].startswith("InvalidInput: broken.pdf: not a readable PDF")
    assert "1 failed" in report.summary() and "6 ingested" in report.summary()
    assert set(listed) == {"guide", "manual", "page", "legacy", "notes", "more"}
    assert listed["manual"].title == "PDF manual" and listed["manual"].chunk_count >= 1
    assert listed["legacy"].source_path == "legacy.HTM"
    assert (again.ingested, again.unchanged, list(again.failed)) == (0, 6, ["broken.pdf"])
