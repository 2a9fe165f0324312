"""Composite score, ranks, grades, assessment points and establishment actions.

The functions work on numpy arrays with an optional leading axis of draws, so the sensitivity analysis reuses
exactly the code of the main result. Rounding (``round(x, 2)`` in scoring.md) is 四舍五入 on the decimal value
(``rounding.round_half_up``); base and composite are snapped to 1e-9 so that float noise never moves a unit
across a threshold (60, 80) or a rounding tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rounding import round_half_up, snap
from .scheme import Scheme


def _floor(x):
    """floor() that is not fooled by binary fractions (0.2 x 35 = 7.000000000000001)."""
    return np.floor(np.round(x, 9))


def _ceil(x):
    """ceil() that is not fooled by binary fractions (0.05 x 60 = 3.0000000000000004)."""
    return np.ceil(np.round(x, 9))


def base_scores(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of the leaves that have a value, and the sum of their weights.

    ``values``: (..., leaf, unit) points with NaN for no value; ``weights``: (..., leaf). Returns
    ``base`` (..., unit) = Σ_A w·S / Σ_A w (NaN when no leaf has a value) and ``weight_sum`` Σ_A w. A unit's
    missing leaves thus do not count against it: their weight is spread over its other leaves.
    """
    have = ~np.isnan(values)
    filled = np.where(have, values, 0.0)
    weight_sum = np.einsum("...k,...kn->...n", weights, have.astype(float))
    total = np.einsum("...k,...kn->...n", weights, filled)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(weight_sum > 0, total / weight_sum, np.nan)
    return snap(base), weight_sum


def composite_scores(base: np.ndarray, deduction: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """composite = clip(base - deduction + bonus, 0, 100), points; NaN where base is NaN."""
    return np.clip(snap(base - deduction + bonus), 0.0, 100.0)


def rank_within(composite: np.ndarray, base: np.ndarray, categories: np.ndarray, codes: np.ndarray):
    """Ranks 1..N within each category with no ties (排名不能出现并列).

    Order: round(composite, 2) descending, round(base, 2) descending, unit code ascending. Units without a
    composite get no rank (NaN) and do not count in N. ``composite`` and ``base`` are (..., unit); returns
    (rank, n_in_category) with rank a float array of the same shape and n_in_category (..., unit) the N of
    each unit's category.
    """
    composite = np.atleast_2d(composite)
    base = np.atleast_2d(base)
    cat_id = np.unique(categories.astype(str), return_inverse=True)[1].reshape(-1)
    code_id = np.unique(codes.astype(str), return_inverse=True)[1].reshape(-1)
    scored = ~np.isnan(composite)
    key_c = np.where(scored, -round_half_up(composite, 2), np.inf)
    key_b = np.where(np.isnan(base), np.inf, -round_half_up(base, 2))
    shape = composite.shape
    keys = (np.broadcast_to(code_id, shape), key_b, key_c, np.broadcast_to(cat_id, shape))  # last key first
    order = np.lexsort(keys, axis=-1)
    position = np.empty(shape, dtype=np.int64)
    np.put_along_axis(position, order, np.broadcast_to(np.arange(shape[-1]), shape), axis=-1)
    start = np.searchsorted(np.sort(cat_id), cat_id)
    rank = np.where(scored, position - start + 1, np.nan).astype(float)
    one_hot = cat_id[None, :] == np.arange(cat_id.max() + 1 if len(cat_id) else 0)[:, None]
    n_scored = scored.astype(float) @ one_hot.T.astype(float)  # (..., category)
    n_in_category = n_scored[..., cat_id] if len(cat_id) else np.zeros(shape)
    return rank, n_in_category


def grade_codes(rank: np.ndarray, composite: np.ndarray, n_in_category: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Grade codes (index into ``scheme.GRADES``: 0 excellent, 1 good, 2 fair, 3 poor), the first rule that
    applies: excellent if rank <= floor(0.2 N); poor if composite < 60 or rank > N - floor(0.1 N); good if
    composite >= 80; otherwise fair. -1 for units without a composite."""
    g = scheme.grades
    excellent = rank <= _floor(g.excellent_share * n_in_category)
    poor = (composite < g.poor_below) | (rank > n_in_category - _floor(g.poor_share * n_in_category))
    good = composite >= g.good_from
    codes = np.select([excellent, poor, good], [0, 3, 1], default=2)
    return np.where(np.isnan(rank), -1, codes)


def assessment_points(composite: np.ndarray, scheme: Scheme) -> np.ndarray:
    """The unit's points in the city's comprehensive assessment (4% share): round(4 x composite / 100, 2)."""
    return round_half_up(scheme.assessment_share * composite / 100.0, 2)


def establishment_actions(grades: np.ndarray) -> np.ndarray:
    """挂钩编制管理: ``priority`` for excellent, ``restrict`` for poor, otherwise ``maintain``; None for a unit
    without a grade (no data: the office cannot link an establishment decision to a score it does not have)."""
    grades = np.asarray(grades, dtype=object)
    actions = np.where(grades == "excellent", "priority", np.where(grades == "poor", "restrict", "maintain"))
    return np.where(pd.isna(grades), None, actions.astype(object))


def suggested_reductions(
    actions: np.ndarray, establishment: np.ndarray, actual_staff: np.ndarray, scheme: Scheme
) -> np.ndarray:
    """Suggested establishment cut (视情调减编制), a whole number of posts, for ``restrict`` units only:
    min(vacancies, ceil(0.05 x establishment)) with vacancies = max(0, establishment - actual_staff).

    An unknown establishment counts as 0 and an unknown actual staff as no known vacancy, so both give 0:
    the office cannot cut posts it cannot count.
    """
    est = np.nan_to_num(np.asarray(establishment, dtype=float), nan=0.0)
    staff = np.asarray(actual_staff, dtype=float)
    vacancies = np.where(np.isnan(staff), 0.0, np.maximum(0.0, est - np.nan_to_num(staff)))
    cut = np.minimum(vacancies, _ceil(scheme.reduction_share * est))
    return np.where(actions == "restrict", np.floor(cut), 0).astype(int)
