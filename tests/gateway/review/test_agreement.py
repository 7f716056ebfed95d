"""Agreement coefficients against values worked out by hand (arithmetic in the comments) and
Krippendorff's own worked example; undefined cases are None, never an error."""

from __future__ import annotations

import pytest

from services.gateway.review.agreement import cohen_kappa, krippendorff_alpha, weighted_kappa
from services.gateway.review.report import agreement
from services.gateway.review.store import Rating

# Two raters, six items.
A = [1, 2, 3, 1, 2, 3]
B = [1, 2, 3, 2, 2, 1]


def test_cohen_kappa_by_hand() -> None:
    # Agreements at items 1, 2, 3, 5: p_o = 4/6 = 2/3.
    # Marginals A: 1->2, 2->2, 3->2; B: 1->2, 2->3, 3->1.
    # p_e = (2*2 + 2*3 + 2*1) / 6^2 = 12/36 = 1/3.
    # kappa = (2/3 - 1/3) / (1 - 1/3) = (1/3) / (2/3) = 0.5
    assert cohen_kappa(A, B) == pytest.approx(0.5)


def test_cohen_kappa_textbook_yes_no() -> None:
    """The usual textbook case: 50 proposals, both yes 20, A yes B no 5, A no B yes 10, both
    no 15. p_o = 35/50 = 0.7; A says yes 25/50, B 30/50:
    p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4."""
    a = [1] * 20 + [1] * 5 + [2] * 10 + [2] * 15
    b = [1] * 20 + [2] * 5 + [1] * 10 + [2] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_quadratic_weighted_kappa_by_hand() -> None:
    # Weights w_ij = (i - j)^2. Observed: the pairs differ by 0,0,0,1,0,2 ->
    # sum w = 0+0+0+1+0+4 = 5 -> 5/6 per item.
    # Expected: sum over i, j of nA(i) nB(j) (i - j)^2 / 36:
    #   i=1: 2*3*1 + 2*1*4 = 14;  i=2: 2*2*1 + 2*1*1 = 6;  i=3: 2*2*4 + 2*3*1 = 22
    #   -> 42/36 = 7/6.  kappa_w = 1 - (5/6) / (7/6) = 1 - 5/7 = 2/7.
    assert weighted_kappa(A, B) == pytest.approx(2 / 7)


def test_weighted_kappa_credits_near_misses() -> None:
    # A 4 against a 5 is closer than a 1 against a 5: the near-miss pair scores higher.
    # near: observed (0+0+1+0)/4 = 1/4 with A=[1,3,4,5], B=[1,3,5,5]; nA: 1,3,4,5 -> 1 each,
    # nB: 1->1, 3->1, 5->2. Expected sum nA(i) nB(j) (i-j)^2 =
    #   i=1: 4 + 16*2 = 36; i=3: 4 + 4*2 = 12; i=4: 9 + 1 + 1*2 = 12; i=5: 16 + 4 = 20
    #   -> 80 / 16 = 5.  kappa_w = 1 - (1/4) / 5 = 0.95.
    assert weighted_kappa([1, 3, 4, 5], [1, 3, 5, 5]) == pytest.approx(0.95)
    assert weighted_kappa([1, 3, 4, 5], [1, 3, 1, 5]) < weighted_kappa([1, 3, 4, 5], [1, 3, 5, 5])
    # Unweighted kappa sees both as one disagreement in four.
    assert cohen_kappa([1, 3, 4, 5], [1, 3, 5, 5]) == pytest.approx(
        cohen_kappa([1, 3, 4, 5], [1, 3, 1, 5])
    )


def test_kappas_undefined_or_invalid() -> None:
    assert cohen_kappa([], []) is None and cohen_kappa([3], [3]) is None  # under two pairs
    # Both raters always 4: chance agreement is already 1, nothing to correct.
    assert cohen_kappa([4, 4, 4], [4, 4, 4]) is None
    assert weighted_kappa([4, 4, 4], [4, 4, 4]) is None
    assert cohen_kappa([1, 2, 5], [1, 2, 5]) == pytest.approx(1.0)
    # Constant but different: p_o = 0, p_e = 0 -> kappa 0; quadratic: 1 - 1/1 = 0.
    assert cohen_kappa([1, 1], [2, 2]) == 0.0 and weighted_kappa([1, 1], [2, 2]) == 0.0
    with pytest.raises(ValueError, match="paired"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="among"):
        weighted_kappa([1, 6], [1, 2])


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, missing values. Unit 12 has one value, so it is not pairable.
_ = None
KRIPPENDORFF = list(
    zip(
        [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
        [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
        strict=True,
    )
)


def test_krippendorff_worked_example() -> None:
    # Coincidence matrix (each unit's pairs weigh 1/(m_u - 1)), rows/columns values 1..5:
    #   1: 7    4/3  1/3  1/3  .        n_1 = 9
    #   2: 4/3  10   4/3  1/3  .        n_2 = 13
    #   3: 1/3  4/3  8    1/3  .        n_3 = 10
    #   4: 1/3  1/3  1/3  4    .        n_4 = 5
    #   5: .    .    .    .    3        n_5 = 3        n = 40
    # interval, delta = (c - k)^2: sum o_ck delta = 52/3, sum n_c n_k delta = 4480:
    #   alpha = 1 - 39 * (52/3) / 4480 = 1 - 676/4480 = 0.849107...   (paper: 0.849)
    # ordinal, delta_ck = (n_c/2 + n_between + n_k/2)^2: sum o delta = 1891,
    #   sum n n delta = 399480: alpha = 1 - 39 * 1891 / 399480 = 0.815388...  (paper: 0.815)
    # nominal: the paper's 0.743.
    assert krippendorff_alpha(KRIPPENDORFF, "interval") == pytest.approx(1 - 676 / 4480)
    assert krippendorff_alpha(KRIPPENDORFF, "ordinal") == pytest.approx(1 - 39 * 1891 / 399480)
    assert krippendorff_alpha(KRIPPENDORFF, "interval") == pytest.approx(0.849, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF, "nominal") == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_small_case_by_hand() -> None:
    # Units (1, 2), (3, 3) and (2, missing), which is not pairable.
    # Coincidences: o_12 = o_21 = 1, o_33 = 2; n_1 = 1, n_2 = 1, n_3 = 2; n = 4.
    units = [[1, 2], [3, 3], [2, None]]
    # interval: sum o delta = 1 + 1 = 2;
    #   sum n n delta = 2 * (1*1*1 + 1*2*4 + 1*2*1) = 22 -> alpha = 1 - 3*2/22 = 8/11
    assert krippendorff_alpha(units, "interval") == pytest.approx(8 / 11)
    # ordinal: d_12 = (1 + 1 - (1+1)/2)^2 = 1, d_13 = (1+1+2 - (1+2)/2)^2 = 6.25,
    #   d_23 = (1+2 - (1+2)/2)^2 = 2.25; sum o d = 2;
    #   sum n n d = 2 * (1*1*1 + 1*2*6.25 + 1*2*2.25) = 36 -> alpha = 1 - 3*2/36 = 5/6
    assert krippendorff_alpha(units, "ordinal") == pytest.approx(5 / 6)
    # nominal: sum n n d = 2 * (1 + 2 + 2) = 10 -> alpha = 1 - 3*2/10 = 0.4
    assert krippendorff_alpha(units, "nominal") == pytest.approx(0.4)


def test_krippendorff_undefined_cases() -> None:
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([[3, None], [None, 4]]) is None  # nothing pairable
    assert krippendorff_alpha([[4, 4], [4, 4, 4]]) is None  # no variation at all
    assert krippendorff_alpha([[1, 1], [5, 5]]) == pytest.approx(1.0)
    # one unit, two different values: observed = expected disagreement -> 0... scaled by n-1:
    # n = 2, sum o d = 2, sum n n d = 2 -> 1 - 1*2/2 = 0
    assert krippendorff_alpha([[1, 2]], "interval") == pytest.approx(0.0)
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 2]], "ratio")  # type: ignore[arg-type]


def _r(item: str, rater: str, h: int, a: int = 3, s: int = 5) -> Rating:
    return Rating(item, rater, h, a, s)


def test_agreement_report_pairs_and_nulls() -> None:
    ratings = [
        *(_r(i, "ana", h) for i, h in zip("wxyz", [1, 2, 3, 1], strict=True)),
        *(_r(i, "bo", h) for i, h in zip("wxyz", [1, 2, 3, 2], strict=True)),
        _r("w", "cy", 2),  # cy shares one item with each: no pair is reported for cy
    ]
    report = agreement(ratings)
    assert report.raters == ["ana", "bo", "cy"] and report.ratings == 9
    (pair,) = report.helpfulness.pairs
    assert pair.raters == ["ana", "bo"] and pair.items == 4
    assert pair.kappa == pytest.approx(cohen_kappa([1, 2, 3, 1], [1, 2, 3, 2]))
    assert report.helpfulness.items == 4 and report.helpfulness.alpha is not None
    # Everyone gave accuracy 3 and safety 5: undefined, reported as null.
    assert report.accuracy.alpha is None and report.accuracy.pairs[0].kappa is None
    assert report.safety.pairs[0].weighted_kappa is None
    empty = agreement([])
    assert empty.raters == [] and empty.helpfulness.alpha is None and empty.safety.pairs == []
