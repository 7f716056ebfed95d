"""Human scores from the gateway's review store (``/review``), for the questions evaluated.

Ratings are matched by ``question_id`` (the ``_id`` of an imported questions file) or, for
sampled conversations, by the question's exact text, so only answers to this question set count.
"""

from __future__ import annotations

import statistics

import httpx

from services.gateway.review.agreement import krippendorff_alpha

DIMENSIONS = ("helpfulness", "accuracy", "safety")


def human_scores(
    export: dict, question_ids: set[str], texts: frozenset[str] = frozenset()
) -> dict | None:
    """Means per dimension and the raters' agreement over the matching items; None if none."""
    items = [
        i
        for i in export.get("items", [])
        if i.get("question_id") in question_ids or i.get("question") in texts
    ]
    ratings = [(i["id"], r) for i in items for r in i.get("ratings", [])]
    if not ratings:
        return None
    means = {d: round(statistics.fmean(r[d] for _, r in ratings), 3) for d in DIMENSIONS}
    agreement = {}
    for dim in DIMENSIONS:
        units: dict[str, dict[str, int]] = {}
        for item_id, r in ratings:
            units.setdefault(item_id, {})[r["rater"]] = r[dim]
        alpha = krippendorff_alpha([list(u.values()) for u in units.values()], "ordinal")
        agreement[dim] = None if alpha is None else round(alpha, 4)
    return {
        "items": len({item_id for item_id, _ in ratings}),
        "ratings": len(ratings),
        "raters": len({r["rater"] for _, r in ratings}),
        "means": means,
        "agreement": agreement,
    }


async def fetch_export(client: httpx.AsyncClient) -> dict | None:
    """The review store's JSON export, or None when the gateway has none for this caller."""
    try:
        response = await client.get("/v1/review/export", params={"format": "json"})
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None
