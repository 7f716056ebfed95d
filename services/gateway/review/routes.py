"""``/v1/review``: human evaluation of answers by named raters (admin scope).

Sample stored exchanges or import a questions file (answered in the background), rate each item
1-5 on helpfulness, accuracy and safety, then export the ratings with their agreement.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.access.auth import AUTH_ERRORS, AdminCaller
from services.gateway.chat.schemas import ErrorBody
from services.gateway.review.report import agreement, export, export_csv
from services.gateway.review.schemas import (
    Agreement,
    Export,
    ImportJobOut,
    ImportRequest,
    ItemList,
    ItemOut,
    RaterName,
    RatingOut,
    RatingRequest,
    SampleRequest,
    item_out,
)
from services.gateway.review.service import ImportJob, ReviewService
from services.gateway.review.store import Rating

router = APIRouter(prefix="/v1/review", tags=["review"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (*AUTH_ERRORS, 404, 422, 500)
}
ItemId = Annotated[str, Path(pattern=r"^rv_[0-9a-f]{24}$")]
Rater = Annotated[RaterName, Path(min_length=1, max_length=64)]


def _review(request: Request) -> ReviewService:
    return request.app.state.review


def _job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        job_id=job.id,
        state=job.state,
        done=job.done,
        total=job.total,
        failed=job.failed,
        errors=list(job.errors),
    )


@router.post("/sample", status_code=201, response_model=ItemList, responses=_ERRORS)
async def sample(request: Request, _: AdminCaller, body: SampleRequest) -> ItemList:
    """Add ``count`` random recent exchanges (every owner's), skipping those already here."""
    conversations = request.app.state.pipeline.store
    created = await _review(request).sample(conversations, body.count, body.seed)
    return ItemList(items=[ItemOut(**item_out(item)) for item in created])


@router.post("/import", status_code=202, response_model=ImportJobOut, responses=_ERRORS)
async def start_import(request: Request, _: AdminCaller, body: ImportRequest) -> ImportJobOut:
    """Answer each question through the chat pipeline in the background; poll the job."""
    pipeline = request.app.state.pipeline
    job = _review(request).start_import(pipeline, body.questions, body.max_tokens)
    return _job_out(job)


@router.get("/import/{job_id}", response_model=ImportJobOut, responses=_ERRORS)
async def import_progress(request: Request, _: AdminCaller, job_id: str) -> ImportJobOut:
    """Progress of an import job started on this gateway process."""
    return _job_out(_review(request).job(job_id))


@router.get("/items", response_model=ItemList, responses=_ERRORS)
async def list_items(
    request: Request,
    _: AdminCaller,
    rater: Annotated[RaterName | None, Query(max_length=64)] = None,
) -> ItemList:
    """Every item with its sources, and (given ``rater``) that rater's rating."""
    store = _review(request).store
    items = await asyncio.to_thread(store.items)
    mine: dict[str, Rating] = {}
    if rater is not None:
        mine = {r.item_id: r for r in await asyncio.to_thread(store.ratings, rater)}
    return ItemList(
        items=[ItemOut(**item_out(item, rating=_rating_out(mine.get(item.id)))) for item in items]
    )


def _rating_out(rating: Rating | None) -> RatingOut | None:
    return None if rating is None else RatingOut(**rating.__dict__)


@router.put("/items/{item_id}/ratings/{rater}", response_model=RatingOut, responses=_ERRORS)
async def rate(
    request: Request, _: AdminCaller, item_id: ItemId, rater: Rater, body: RatingRequest
) -> RatingOut:
    """Store the rater's scores of the item, replacing any earlier ones."""
    rating = Rating(item_id, rater, body.helpfulness, body.accuracy, body.safety, body.comment)
    stored = await asyncio.to_thread(_review(request).store.rate, rating)
    return RatingOut(**stored.__dict__)


@router.get("/agreement", response_model=Agreement, responses=_ERRORS)
async def get_agreement(request: Request, _: AdminCaller) -> Agreement:
    """Krippendorff's alpha (ordinal) per dimension, and Cohen's kappas per pair of raters."""
    ratings = await asyncio.to_thread(_review(request).store.ratings)
    return agreement(ratings)


_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON (format=json) or CSV (format=csv), as an attachment.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/export", response_model=Export, responses={**_ERRORS, **_CSV})
async def export_ratings(
    request: Request, _: AdminCaller, format: Literal["json", "csv"] = "json"
) -> Response:
    """Every item with its ratings and the agreement (JSON), or one row per rating (CSV)."""
    store = _review(request).store
    items = await asyncio.to_thread(store.items)
    ratings = await asyncio.to_thread(store.ratings)
    if format == "csv":
        return Response(
            export_csv(items, ratings),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="review.csv"'},
        )
    body = export(items, ratings).model_dump(mode="json")
    return JSONResponse(body, headers={"content-disposition": 'attachment; filename="review.json"'})
