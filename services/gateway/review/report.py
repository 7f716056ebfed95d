"""What a review yields: agreement per dimension, and the ratings as JSON or CSV.

Kept apart from the routes so that the numbers are computed (and tested) from plain ratings.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from itertools import combinations

from services.gateway.review.agreement import cohen_kappa, krippendorff_alpha, weighted_kappa
from services.gateway.review.schemas import (
    Agreement,
    DimensionAgreement,
    Export,
    ExportItem,
    PairAgreement,
    RatingOut,
    item_out,
)
from services.gateway.review.store import DIMENSIONS, Rating, ReviewItem

CSV_COLUMNS = (
    "item_id", "question_id", "question", "answer", "rater",
    "helpfulness", "accuracy", "safety", "comment", "created_at",
)  # fmt: skip


def agreement(ratings: list[Rating]) -> Agreement:
    """Alpha over all raters and kappas for each pair that shares two or more items."""
    raters = sorted({r.rater for r in ratings})
    by_item: dict[str, dict[str, Rating]] = defaultdict(dict)
    for rating in ratings:
        by_item[rating.item_id][rating.rater] = rating
    return Agreement(
        raters=raters,
        ratings=len(ratings),
        **{d: _dimension(d, raters, by_item) for d in DIMENSIONS},
    )


def _dimension(
    dimension: str, raters: list[str], by_item: dict[str, dict[str, Rating]]
) -> DimensionAgreement:
    units = [
        [getattr(rated[r], dimension) if r in rated else None for r in raters]
        for rated in by_item.values()
    ]
    pairs = []
    for a, b in combinations(raters, 2):
        shared = [rated for rated in by_item.values() if a in rated and b in rated]
        if len(shared) < 2:
            continue
        left = [getattr(rated[a], dimension) for rated in shared]
        right = [getattr(rated[b], dimension) for rated in shared]
        pairs.append(
            PairAgreement(
                raters=[a, b],
                items=len(shared),
                kappa=cohen_kappa(left, right),
                weighted_kappa=weighted_kappa(left, right),
            )
        )
    return DimensionAgreement(
        alpha=krippendorff_alpha(units, "ordinal"),
        items=sum(1 for rated in by_item.values() if len(rated) >= 2),
        pairs=pairs,
    )


def export(items: list[ReviewItem], ratings: list[Rating]) -> Export:
    """Every item with all its ratings, and the agreement over them."""
    by_item: dict[str, list[RatingOut]] = defaultdict(list)
    for rating in ratings:
        by_item[rating.item_id].append(RatingOut(**rating.__dict__))
    rows = [ExportItem(**item_out(item, ratings=by_item.get(item.id, []))) for item in items]
    return Export(items=rows, agreement=agreement(ratings))


def export_csv(items: list[ReviewItem], ratings: list[Rating]) -> str:
    """One row per rating, items in review order; fields quoted as CSV needs; times in UTC
    ISO 8601 (a spreadsheet reads them, unlike Unix seconds)."""
    known = {item.id: item for item in items}
    order = {item.id: i for i, item in enumerate(items)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(ratings, key=lambda r: (order.get(r.item_id, len(order)), r.rater)):
        item = known.get(r.item_id)
        writer.writerow(
            [
                r.item_id,
                item.question_id if item and item.question_id is not None else "",
                item.question if item else "",
                item.answer if item else "",
                r.rater,
                r.helpfulness,
                r.accuracy,
                r.safety,
                r.comment,
                datetime.fromtimestamp(r.created_at, UTC).isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()
