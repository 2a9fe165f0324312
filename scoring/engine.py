"""``compute``: one scoring run from input frames and a scheme to a ``Result``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import composite as comp
from .explain import contributions, strengths
from .inputs import Inputs
from .leaves import leaf_arrays, prepare, public_table
from .quality import quality
from .scheme import GRADES, Scheme
from .sensitivity import sensitivity

UNIT_COLUMNS = [
    "unit",
    "name",
    "category",
    "base",
    "composite",
    "deduction",
    "bonus",
    "problems_points",
    "overdue_points",
    "coverage",
    "low_coverage",
    "rank",
    "grade",
    "assessment_points",
    "establishment_action",
    "suggested_reduction",
    "approvals_suspended",
    "rank_median",
    "rank_p05",
    "rank_p95",
    "grade_keep_prob",
    "review_flag",
]
LEAF_COLUMNS = ["unit", "leaf", "value", "raw", "n", "weight", "contribution", "suppressed"]


@dataclass(frozen=True)
class Result:
    """Everything one scoring run produces. Frames hold unrounded numbers (points 0-100 unless named).

    - ``units``: one row per unit (``UNIT_COLUMNS``), ordered by category, then rank (units without a
      composite last), then code.
    - ``leaves``: one row per unit and scheme leaf (``LEAF_COLUMNS``), units in input order, leaves in scheme
      order.
    - ``public``: the public-ratings leaf and what is reported beside it, one row per unit.
    - ``strengths``: unit, strongest, weakest (lists of leaf ids).
    - ``sensitivity``: unit, rank_median, rank_p05, rank_p95, grade_keep_prob, review_flag.
    - ``quality``: ``response_rates``, ``straight_liners``, ``alpha`` frames.
    - ``scheme`` and ``scheme_fingerprint``: the scheme used and its SHA-256 fingerprint.
    """

    units: pd.DataFrame
    leaves: pd.DataFrame
    public: pd.DataFrame
    strengths: pd.DataFrame
    sensitivity: pd.DataFrame
    quality: dict[str, pd.DataFrame]
    scheme: Scheme
    scheme_fingerprint: str


def compute(inputs: Inputs, scheme: Scheme) -> Result:
    """Score every unit of ``inputs`` with ``scheme`` (the method of scoring.md), with sensitivity analysis,
    explanation and data-quality checks. Pure: same inputs and scheme give the same result."""
    prep = prepare(inputs, scheme)
    arrays = leaf_arrays(prep, scheme, trim=True, m=scheme.public.m)
    units = inputs.units
    codes = prep.codes
    weights = np.array([leaf.weight for leaf in scheme.leaves])
    positive = np.array([not leaf.is_deduction for leaf in scheme.leaves], dtype=bool)

    problems = prep.problems.reindex(codes)
    deduction_sources = {leaf.source for leaf in scheme.leaves if leaf.is_deduction}
    problems_points = problems["problems"].fillna(0.0).to_numpy()
    overdue_points = problems["overdue"].fillna(0.0).to_numpy()
    deduction = np.minimum(
        scheme.deduction.cap,
        problems_points * ("problems" in deduction_sources) + overdue_points * ("overdue" in deduction_sources),
    )
    bonus = np.minimum(scheme.bonus_cap, prep.bonus_points.reindex(codes).fillna(0.0).to_numpy())
    suspended = problems["suspended"].eq(True).to_numpy()

    base, weight_sum = comp.base_scores(arrays.value[positive], weights[positive])
    composite = comp.composite_scores(base, deduction, bonus)
    rank, n_cat = comp.rank_within(composite, base, prep.categories, codes)
    rank, n_cat = rank[0], n_cat[0]
    grade_code = comp.grade_codes(rank, composite, n_cat, scheme)
    grades = np.array([GRADES[g] if g >= 0 else None for g in grade_code], dtype=object)
    actions = comp.establishment_actions(grades)
    coverage = weight_sum / 100.0
    reductions = comp.suggested_reductions(
        actions, units["establishment"].to_numpy(dtype=float), units["actual_staff"].to_numpy(dtype=float), scheme
    )

    sens = sensitivity(prep, scheme, deduction, bonus, grade_code)
    table = pd.DataFrame(
        {
            "unit": codes,
            "name": units["name"].to_numpy(dtype=object),
            "category": prep.categories,
            "base": base,
            "composite": composite,
            "deduction": deduction,
            "bonus": bonus,
            "problems_points": problems_points,
            "overdue_points": overdue_points,
            "coverage": coverage,
            "low_coverage": coverage < scheme.coverage_min,
            "rank": pd.array(rank, dtype="Int64"),
            "grade": grades,
            "assessment_points": comp.assessment_points(composite, scheme),
            "establishment_action": actions,
            "suggested_reduction": reductions,
            "approvals_suspended": suspended,
        }
    )
    table = pd.concat([table, sens.drop(columns="unit").set_axis(table.index)], axis=1)
    table = (
        table.assign(_unranked=table["rank"].isna())
        .sort_values(["category", "_unranked", "rank", "unit"], kind="stable")
        .drop(columns="_unranked")
        .reset_index(drop=True)
    )

    contrib = np.full(arrays.value.shape, np.nan)
    contrib[positive] = contributions(arrays.value[positive], weights[positive], weight_sum, prep.categories)
    n_leaves = len(scheme.leaves)
    leaves = pd.DataFrame(
        {  # unit-major: a unit's leaves together, in scheme order
            "unit": np.repeat(codes, n_leaves),
            "leaf": np.tile([leaf.id for leaf in scheme.leaves], len(codes)),
            "value": arrays.value.T.ravel(),
            "raw": arrays.raw.T.ravel(),
            "n": arrays.n.T.ravel().astype(int),
            "weight": np.tile(np.where(positive, weights, np.nan), len(codes)),
            "contribution": contrib.T.ravel(),
            "suppressed": arrays.suppressed.T.ravel(),
        }
    )

    return Result(
        units=table[UNIT_COLUMNS],
        leaves=leaves,
        public=public_table(prep, scheme),
        strengths=strengths(leaves, pd.Series(prep.categories, index=codes), scheme),
        sensitivity=sens,
        quality=quality(inputs, scheme),
        scheme=scheme,
        scheme_fingerprint=scheme.fingerprint,
    )


def wide_leaves(result: Result) -> pd.DataFrame:
    """Leaf scores with one row per unit (index: unit code, in ``result.units`` order) and one column per
    scheme leaf id in scheme order; NaN where the unit has no value. Handy for exports."""
    wide = result.leaves.pivot(index="unit", columns="leaf", values="value")
    wide = wide.reindex(index=result.units["unit"], columns=[leaf.id for leaf in result.scheme.leaves])
    wide.columns.name = None
    return wide
