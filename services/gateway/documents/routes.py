"""Documents: upload (ingested in the background), job status, list and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from docentlib.errors import NotFound
from services.gateway.access.auth import AUTH_ERRORS, IngestCaller
from services.gateway.chat.schemas import ErrorBody
from services.gateway.documents.jobs import DocumentJobs, Job, UnsupportedDocument
from services.runtime.clients import RetrievalClient

router = APIRouter(prefix="/v1/documents", tags=["documents"])
_ERRORS = {code: {"model": ErrorBody} for code in (400, *AUTH_ERRORS, 404, 413, 415, 422, 500, 503)}


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
    def of(cls, job: Job) -> JobOut:
        fields = {k: v for k, v in job.__dict__.items() if k not in ("id", "owner")}
        return cls(job_id=job.id, **fields)


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source_path: str
    content_hash: str
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


def _jobs(request: Request) -> DocumentJobs:
    return request.app.state.documents


def _retrieval(request: Request) -> RetrievalClient:
    return request.app.state.pipeline.retrieval


@router.post("", status_code=202, response_model=JobOut, responses=_ERRORS)
async def upload_document(
    request: Request,
    caller: IngestCaller,
    file: Annotated[UploadFile, File(description="A markdown, PDF, HTML or text file.")],
) -> JobOut:
    """Accept a document and ingest it in the background; poll the returned job."""
    data = await file.read()
    try:
        job = await _jobs(request).submit(file.filename or "", data, caller.owner)
    except UnsupportedDocument as exc:
        raise HTTPException(415, exc.message) from None
    return JobOut.of(job)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=_ERRORS)
async def read_job(request: Request, caller: IngestCaller, job_id: str) -> JobOut:
    """Where an upload's ingestion stands (only the key that uploaded it may ask)."""
    return JobOut.of(_jobs(request).get(job_id, caller.owner))


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
