"""Request and response bodies of ``/v1/review``: unknown fields are refused, scores are strict.

A score of ``true``, ``4.0`` or ``"4"`` is a 422: a rater's 4 must have been typed as a 4.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Score = Annotated[int, Field(strict=True, ge=1, le=5)]
RaterName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_BATCH = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SampleRequest(_Body):
    count: int = Field(strict=True, ge=1, le=MAX_BATCH, description="Exchanges to sample.")
    seed: int | None = Field(None, strict=True, description="Same seed, same sample.")


class ImportQuestion(BaseModel):
    """One row of a questions file (``.jsonl``): its ``_id`` and ``text``; other fields are
    allowed (an evaluation set carries answers and labels) and ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)

    id: str = Field(alias="_id", min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=4000)


class ImportRequest(_Body):
    questions: list[ImportQuestion] = Field(min_length=1, max_length=MAX_BATCH)
    max_tokens: int | None = Field(
        None, strict=True, ge=1, le=1024, description="Answer length (the gateway's default)."
    )


class RatingRequest(_Body):
    helpfulness: Score
    accuracy: Score
    safety: Score
    comment: str = Field("", max_length=2000)


class SourceOut(BaseModel):
    n: int | None = None
    title: str | None = None
    source_path: str | None = None
    text: str | None = None


class RatingOut(BaseModel):
    item_id: str
    rater: str
    helpfulness: int
    accuracy: int
    safety: int
    comment: str
    created_at: float


class ItemBase(BaseModel):
    id: str
    source: Literal["conversation", "import"]
    question_id: str | None
    question: str
    answer: str
    sources: list[SourceOut]
    conversation_id: str | None
    created_at: float


class ItemOut(ItemBase):
    rating: RatingOut | None = Field(None, description="The asked-for rater's rating, if any.")


class ItemList(BaseModel):
    items: list[ItemOut]


class ImportJobOut(BaseModel):
    job_id: str
    state: Literal["running", "done", "failed"]
    done: int = Field(description="Questions answered and stored so far.")
    total: int
    failed: int = Field(description="Questions whose answer could not be generated.")
    errors: list[str] = Field(default_factory=list, description="The first few failures.")


class PairAgreement(BaseModel):
    raters: list[str]
    items: int = Field(description="Items both raters rated.")
    kappa: float | None
    weighted_kappa: float | None = Field(description="Quadratic weights.")


class DimensionAgreement(BaseModel):
    alpha: float | None = Field(description="Krippendorff's alpha, ordinal, over all raters.")
    items: int = Field(description="Items rated by at least two raters.")
    pairs: list[PairAgreement]


class Agreement(BaseModel):
    raters: list[str]
    ratings: int
    helpfulness: DimensionAgreement
    accuracy: DimensionAgreement
    safety: DimensionAgreement


class ExportItem(ItemBase):
    ratings: list[RatingOut]


class Export(BaseModel):
    items: list[ExportItem]
    agreement: Agreement


def item_out(item: Any, **extra: Any) -> dict[str, Any]:
    """The fields of a stored item (a dataclass) for :class:`ItemOut` or :class:`ExportItem`."""
    return {**item.__dict__, **extra}
