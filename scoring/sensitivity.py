"""Sensitivity analysis: how stable are ranks and grades when the method's judgement calls change?

Monte Carlo with the scheme's fixed seed. In every draw each positive leaf weight is multiplied by an
independent U[1 - spread, 1 + spread] factor (spread 0.25), trimming is on with probability ½ and the public
``m`` is drawn from ``m_choices`` (15, 30, 60) with equal probability; ranks and grades are recomputed.
Changes no score.

Vectorised: leaf values are computed once per (trimming, m) combination, then the (draws x units) composite
matrix is built with numpy, so 1000 draws for 80 units take milliseconds. Random numbers are drawn in this
order from ``numpy.random.default_rng(seed)``: weight factors (draws x positive leaves), trimming flags
(draws), m indices (draws).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .composite import base_scores, composite_scores, grade_codes, rank_within
from .leaves import Prepared, leaf_states
from .scheme import Scheme

COLUMNS = ["unit", "rank_median", "rank_p05", "rank_p95", "grade_keep_prob", "review_flag"]


def sensitivity(
    prep: Prepared, scheme: Scheme, deduction: np.ndarray, bonus: np.ndarray, grades: np.ndarray
) -> pd.DataFrame:
    """Per unit: median rank, 5th and 95th percentile rank over the draws, the share of draws that keep the
    unit's grade (``grades``: its grade codes in the main result) and ``review_flag`` when that share is
    below ``review_below`` (0.8). NaN / False for units without a composite, and for every unit when the
    scheme asks for 0 draws."""
    s = scheme.sensitivity
    n_units = len(prep.codes)
    out = pd.DataFrame(
        {
            "unit": prep.codes,
            "rank_median": np.nan,
            "rank_p05": np.nan,
            "rank_p95": np.nan,
            "grade_keep_prob": np.nan,
            "review_flag": False,
        }
    )
    if s.draws == 0 or n_units == 0:
        return out
    positive = [i for i, leaf in enumerate(scheme.leaves) if not leaf.is_deduction and leaf.weight > 0]
    weights = np.array([scheme.leaves[i].weight for i in positive])

    # Values per state: state = trim_index * len(m_choices) + m_index, trim_index 0 = off, 1 = on.
    by_state = leaf_states(prep, scheme, (False, True), s.m_choices)
    states = np.stack([by_state[trim, m].value[positive] for trim in (False, True) for m in s.m_choices])

    rng = np.random.default_rng(s.seed)
    factors = rng.uniform(1 - s.weight_spread, 1 + s.weight_spread, size=(s.draws, len(positive)))
    trim_on = rng.random(s.draws) < s.trim_probability
    m_index = rng.integers(0, len(s.m_choices), size=s.draws)
    state = trim_on.astype(int) * len(s.m_choices) + m_index

    base, _ = base_scores(states[state], weights * factors)  # (draws, unit)
    composite = composite_scores(base, deduction, bonus)
    rank, n_cat = rank_within(composite, base, prep.categories, prep.codes)
    draw_grades = grade_codes(rank, composite, n_cat, scheme)

    scored = grades >= 0
    if scored.any():
        p05, median, p95 = np.percentile(rank[:, scored], [5, 50, 95], axis=0)
        keep = (draw_grades[:, scored] == grades[scored]).mean(axis=0)
        out.loc[scored, "rank_median"] = median
        out.loc[scored, "rank_p05"] = p05
        out.loc[scored, "rank_p95"] = p95
        out.loc[scored, "grade_keep_prob"] = keep
        out.loc[scored, "review_flag"] = keep < s.review_below
    return out
