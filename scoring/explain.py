"""Explanation: which indicators lift or sink a unit (changes no score)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scheme import Scheme


def contributions(
    values: np.ndarray, weights: np.ndarray, weight_sum: np.ndarray, categories: np.ndarray
) -> np.ndarray:
    """Contribution of each leaf to each unit, in points of the base score:
    w_l / Σ_A w · (S_l - mean of S_l over the unit's category), the category mean taken over units that have
    a value for the leaf. ``values`` (leaf, unit), ``weights`` (leaf), ``weight_sum`` (unit) Σ_A w.
    NaN where the unit has no value for the leaf."""
    frame = pd.DataFrame(values.T)
    means = frame.groupby(pd.Series(categories, name="category")).transform("mean").to_numpy().T
    with np.errstate(divide="ignore", invalid="ignore"):
        share = weights[:, None] / np.where(weight_sum > 0, weight_sum, np.nan)[None, :]
    return share * (values - means)


def strengths(leaves: pd.DataFrame, categories: pd.Series, scheme: Scheme, top: int = 3) -> pd.DataFrame:
    """Each unit's ``top`` strongest and weakest leaves, by rank in its category.

    ``leaves`` is the long leaf frame (unit, leaf, value, weight, contribution); ``categories`` maps unit code
    to category. Only leaves with a weight > 0 and a value count. A leaf's standing is its rank among the
    category's units that have a value for it, as a share ((rank - ½) / count; ties share the average rank),
    so ranks among few and among many units compare fairly; ties between leaves go to the larger
    contribution, then scheme order. Returns unit, strongest (list of leaf ids, best first), weakest (list,
    worst first); the lists overlap when a unit has fewer than 2 x ``top`` leaves.
    """
    order = {leaf.id: i for i, leaf in enumerate(scheme.leaves)}
    f = leaves[(leaves["weight"] > 0) & leaves["value"].notna()].copy()
    f["category"] = f["unit"].map(categories)
    by = f.groupby(["category", "leaf"], sort=False)["value"]
    f["standing"] = (by.rank(method="average", ascending=False) - 0.5) / by.transform("count")
    f["order"] = f["leaf"].map(order)
    f = f.sort_values(["unit", "standing", "contribution", "order"], ascending=[True, True, False, True])
    ranked = f.groupby("unit", sort=False)["leaf"].agg(list)
    units = pd.Index(categories.index, name="unit")
    ranked = ranked.reindex(units)
    return pd.DataFrame(
        {
            "unit": units,
            "strongest": [list(r[:top]) if isinstance(r, list) else [] for r in ranked],
            "weakest": [list(r[::-1][:top]) if isinstance(r, list) else [] for r in ranked],
        }
    )
