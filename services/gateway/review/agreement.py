"""Inter-rater agreement for the 1-5 review scales: pure functions, no I/O.

Every coefficient returns ``None`` where it is undefined (too few pairs, or no variation to
agree about: chance agreement is then already perfect), never raising and never dividing by 0.

- :func:`cohen_kappa`: two raters, chance-corrected exact agreement (categories unordered).
- :func:`weighted_kappa`: two raters, quadratic disagreement weights ``(i-j)^2``: on an ordinal
  scale a 4 against a 5 is a smaller disagreement than a 1 against a 5.
- :func:`krippendorff_alpha`: any number of raters, missing ratings allowed (not every rater
  rates every item), with nominal, ordinal or interval distances (Krippendorff, 2011,
  "Computing Krippendorff's Alpha-Reliability").

Usage::

    cohen_kappa([1, 2, 3], [1, 2, 2])                        # 0.5
    krippendorff_alpha([[1, 1, None], [2, 3, 2]], "ordinal")
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import permutations
from typing import Literal

SCALE = (1, 2, 3, 4, 5)
Level = Literal["nominal", "ordinal", "interval"]


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa of two raters' paired scores: (p_o - p_e) / (1 - p_e)."""
    return _kappa(a, b, lambda i, j: 0.0 if i == j else 1.0)


def weighted_kappa(
    a: Sequence[int], b: Sequence[int], categories: Sequence[int] = SCALE
) -> float | None:
    """Quadratic-weighted kappa: 1 - sum(w * observed) / sum(w * expected), w = (i-j)^2.

    ``categories`` only has to contain every score; the weights' scale cancels out.
    """
    if any(x not in categories or y not in categories for x, y in zip(a, b, strict=True)):
        raise ValueError(f"scores must be among {list(categories)}")
    return _kappa(a, b, lambda i, j: float((i - j) ** 2))


def _kappa(a: Sequence[int], b: Sequence[int], weight: Callable[[int, int], float]) -> float | None:
    """1 - observed / expected weighted disagreement; None with under 2 pairs or no expected
    disagreement (both raters gave one and the same score throughout)."""
    if len(a) != len(b):
        raise ValueError(f"paired scores needed: {len(a)} against {len(b)}")
    n = len(a)
    if n < 2:
        return None
    w = weight  # (i, j) -> disagreement weight, 0 on the diagonal
    observed = sum(w(x, y) for x, y in zip(a, b, strict=True)) / n
    left, right = Counter(a), Counter(b)
    expected = sum(w(i, j) * left[i] * right[j] for i in left for j in right) / (n * n)
    if expected == 0:
        return None
    return 1.0 - observed / expected


def krippendorff_alpha(
    units: Sequence[Sequence[float | None]], level: Level = "ordinal"
) -> float | None:
    """Krippendorff's alpha over ``units`` (one list of ratings per item, ``None`` = missing).

    alpha = 1 - D_o / D_e = 1 - (n - 1) * sum(o_ck d_ck) / sum(n_c n_k d_ck), from the
    coincidence matrix o (each unit's m_u values give m_u(m_u - 1) ordered pairs, each weighing
    1 / (m_u - 1)). Units with fewer than two values are not pairable and are left out.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"level must be nominal, ordinal or interval, got {level!r}")
    coincidences: dict[tuple[float, float], float] = defaultdict(float)
    for unit in units:
        values = [v for v in unit if v is not None]
        if len(values) < 2:
            continue
        for c, k in permutations(values, 2):
            coincidences[(c, k)] += 1.0 / (len(values) - 1)
    totals: dict[float, float] = defaultdict(float)
    for (c, _), count in coincidences.items():
        totals[c] += count
    n = sum(totals.values())
    if n < 2:
        return None
    delta = _distance(level, totals)
    observed = sum(count * delta(c, k) for (c, k), count in coincidences.items())
    expected = sum(totals[c] * totals[k] * delta(c, k) for c in totals for k in totals)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


def _distance(level: Level, totals: dict[float, float]) -> Callable[[float, float], float]:
    """The squared distance metric delta^2(c, k) of ``level``."""
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: float((c - k) ** 2)
    values = sorted(totals)
    cumulative: dict[float, float] = {}  # value -> sum of n_g for g <= value
    running = 0.0
    for v in values:
        running += totals[v]
        cumulative[v] = running

    def ordinal(c: float, k: float) -> float:
        low, high = min(c, k), max(c, k)
        # sum of n_g for low <= g <= high, less half of each end's count
        between = cumulative[high] - cumulative[low] + totals[low]
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal
