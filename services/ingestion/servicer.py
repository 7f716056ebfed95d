"""Thin gRPC servicer: proto <-> :class:`IngestionCore`, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from docent.v1 import ingestion_pb2, ingestion_pb2_grpc
from docentlib.errors import InvalidInput, Unavailable
from services.ingestion.core import IngestionCore
from services.ingestion.ingest import IngestReport
from services.ingestion.jobs import Job
from services.ingestion.settings import IngestSettings

_STATUS = {
    "queued": ingestion_pb2.JOB_STATUS_QUEUED,
    "running": ingestion_pb2.JOB_STATUS_RUNNING,
    "succeeded": ingestion_pb2.JOB_STATUS_SUCCEEDED,
    "failed": ingestion_pb2.JOB_STATUS_FAILED,
}


def job_to_proto(job: Job) -> ingestion_pb2.Job:
    return ingestion_pb2.Job(
        job_id=job.id,
        status=_STATUS[job.status],
        filename=job.filename,
        doc_id=job.doc_id,
        owner=job.owner,
        created_at=job.created_at,
        finished_at=job.finished_at,
        chunks=job.chunks,
        unchanged=job.unchanged,
        error=job.error,
    )


def report_to_proto(report: IngestReport) -> ingestion_pb2.IngestReport:
    return ingestion_pb2.IngestReport(
        files=report.files,
        ingested=report.ingested,
        unchanged=report.unchanged,
        failed=report.failed,
        chunks=report.chunks,
        seconds=report.seconds,
    )


class IngestionServicer(ingestion_pb2_grpc.IngestionServicer):
    service_names = (ingestion_pb2.DESCRIPTOR.services_by_name["Ingestion"].full_name,)

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.core: IngestionCore | None = None

    def register(self, server: grpc.aio.Server) -> None:
        ingestion_pb2_grpc.add_IngestionServicer_to_server(self, server)

    async def load(self) -> bool:
        core = IngestionCore.from_settings(self.settings)
        await core.start()
        self.core = core
        return True

    async def close(self) -> None:
        if self.core is not None:
            core, self.core = self.core, None
            await core.close()

    def _core(self) -> IngestionCore:
        if self.core is None:
            raise Unavailable("ingestion is still starting")
        return self.core

    async def Upload(
        self,
        request_iterator: AsyncIterator[ingestion_pb2.UploadRequest],
        context: grpc.aio.ServicerContext,
    ) -> ingestion_pb2.Job:
        core = self._core()
        messages = aiter(request_iterator)
        first = await anext(messages, None)
        if first is None or first.WhichOneof("part") != "metadata":
            raise InvalidInput("an upload starts with its metadata (filename), then the bytes")
        meta = first.metadata

        async def parts() -> AsyncIterator[bytes]:
            async for message in messages:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidInput("an upload carries its metadata once, first")
                yield message.chunk

        job = await core.upload(meta.filename, meta.owner, parts())
        return job_to_proto(job)

    async def GetJob(
        self, request: ingestion_pb2.GetJobRequest, context: grpc.aio.ServicerContext
    ) -> ingestion_pb2.Job:
        return job_to_proto(await self._core().get(request.job_id, request.owner))

    async def ListJobs(
        self, request: ingestion_pb2.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> ingestion_pb2.ListJobsResponse:
        jobs = await self._core().list(request.owner, request.limit)
        return ingestion_pb2.ListJobsResponse(jobs=[job_to_proto(j) for j in jobs])

    async def IngestPath(
        self, request: ingestion_pb2.IngestPathRequest, context: grpc.aio.ServicerContext
    ) -> ingestion_pb2.IngestReport:
        return report_to_proto(await self._core().ingest_path(request.path))
