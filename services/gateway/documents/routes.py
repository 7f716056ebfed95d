"""Documents: upload (ingested in the background by the ingestion service), job status, list
and delete. Uploads and jobs go to the ingestion service; the index is read from retrieval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Request, Response, UploadFile
from pydantic import BaseModel, Field

from docent.v1 import ingestion_pb2
from docentlib.errors import NotFound
from services.gateway.access.auth import AUTH_ERRORS, IngestCaller
from services.gateway.chat.schemas import ErrorBody
from services.runtime.clients import IngestionClient, RetrievalClient

router = APIRouter(prefix="/v1/documents", tags=["documents"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, *AUTH_ERRORS, 404, 413, 415, 422, 500, 503)
}


class JobOut(BaseModel):
    job_id: str
    status: str = Field(description="queued, running, succeeded or failed.")
    filename: str
    doc_id: str = Field(description="The id the document is indexed under.")
    created_at: float
    finished_at: float | None = None
    chunks: int = Field(0, description="Chunks indexed (0 while running, or if unchanged).")
    unchanged: bool = Field(False, description="The index already held this exact content.")
    error: str | None = None

    @classmethod
    def of(cls, job: ingestion_pb2.Job) -> JobOut:
        status = ingestion_pb2.JobStatus.Name(job.status).removeprefix("JOB_STATUS_").lower()
        return cls(
            job_id=job.job_id,
            status=status,
            filename=job.filename,
            doc_id=job.doc_id,
            created_at=job.created_at,
            finished_at=job.finished_at if job.HasField("finished_at") else None,
            chunks=job.chunks,
            unchanged=job.unchanged,
            error=job.error if job.HasField("error") else None,
        )


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source_path: str
    content_hash: str
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


def _ingestion(request: Request) -> IngestionClient:
    return request.app.state.ingestion


def _retrieval(request: Request) -> RetrievalClient:
    return request.app.state.pipeline.retrieval


@router.post("", status_code=202, response_model=JobOut, responses=_ERRORS)
async def upload_document(
    request: Request,
    caller: IngestCaller,
    file: Annotated[UploadFile, File(description="A markdown, PDF, HTML or text file.")],
) -> JobOut:
    """Accept a document and ingest it in the background; poll the returned job.

    The ingestion service checks the file (415 for a type it cannot parse, 400 when empty);
    503 when it is down."""
    data = await file.read()
    job = await _ingestion(request).upload(
        file.filename or "", data, owner=caller.owner, content_type=file.content_type or ""
    )
    return JobOut.of(job)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=_ERRORS)
async def read_job(request: Request, caller: IngestCaller, job_id: str) -> JobOut:
    """Where an upload's ingestion stands (only the key that uploaded it may ask)."""
    return JobOut.of(await _ingestion(request).get_job(job_id, caller.owner))


@router.get("", response_model=DocumentList, responses=_ERRORS)
async def list_documents(request: Request, caller: IngestCaller) -> DocumentList:
    """Every indexed document (from the retrieval service)."""
    infos = await _retrieval(request).list_documents()
    return DocumentList(
        documents=[
            DocumentOut(
                doc_id=d.doc_id,
                title=d.title,
                source_path=d.source_path,
                content_hash=d.content_hash,
                chunks=d.chunk_count,
            )
            for d in infos
        ]
    )


@router.delete("/{doc_id:path}", status_code=204, responses=_ERRORS)
async def delete_document(
    request: Request,
    caller: IngestCaller,
    doc_id: Annotated[str, Path(min_length=1, max_length=1000)],
) -> Response:
    """Remove a document and its chunks from the index."""
    deleted, _ = await _retrieval(request).delete(doc_ids=[doc_id])
    if not deleted:
        raise NotFound(f"document {doc_id} not found")
    return Response(status_code=204)
