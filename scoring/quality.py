"""Data quality of a period's questionnaires (changes no score)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inputs import Inputs
from .leaves import answer_points, is_likert
from .scheme import INSTRUMENTS, Scheme


def response_rates(assignments: pd.DataFrame | None) -> pd.DataFrame:
    """Response rate per instrument, town and rater group: assigned, submitted, rate = submitted / assigned
    (0-1). Raters without a town form their own row (town None)."""
    columns = ["instrument", "town", "group", "assigned", "submitted", "rate"]
    if assignments is None or assignments.empty:
        return pd.DataFrame({c: [] for c in columns})
    g = assignments.groupby(["instrument", "town", "group"], dropna=False)["submitted"].agg(["size", "sum"])
    g = g.reset_index().rename(columns={"size": "assigned", "sum": "submitted"})
    g["town"] = pd.Series([None if pd.isna(t) else t for t in g["town"]], index=g.index, dtype=object)
    g["submitted"] = g["submitted"].astype(int)
    g["rate"] = g["submitted"] / g["assigned"]
    return g[columns]


def straight_liners(inputs: Inputs, min_answers: int = 8) -> pd.DataFrame:
    """Raters who gave the same answer to every question across all their targets of an instrument, with at
    least ``min_answers`` answers (don't know left out): rater, instrument, n_answers, value (the answer)."""
    answers = inputs.answers
    answer = answers["answer"].to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(answer))
    idx = inputs.answer_index
    key = idx.rater.astype(np.int64) * max(len(idx.instruments), 1) + idx.instrument
    stats = (
        pd.DataFrame({"key": key[rows], "answer": answer[rows], "row": rows})
        .groupby("key")
        .agg(n_answers=("answer", "size"), low=("answer", "min"), high=("answer", "max"), row=("row", "first"))
    )
    hit = stats[(stats["n_answers"] >= min_answers) & (stats["low"] == stats["high"])]
    source = hit["row"].to_numpy()
    return pd.DataFrame(
        {
            "rater": answers["rater"].to_numpy(dtype=object)[source],
            "instrument": answers["instrument"].to_numpy(dtype=object)[source],
            "n_answers": hit["n_answers"].to_numpy(dtype=int),
            "value": hit["low"].to_numpy(dtype=float),
        }
    )


def krippendorff_alpha_ordinal(items: np.ndarray, values: np.ndarray) -> float:
    """Krippendorff's alpha with the ordinal metric.

    ``items[i]`` is the unit of analysis (here: target unit x question) of the value ``values[i]`` given by
    one coder (rater). Items with fewer than two values are not pairable and left out. 1 = perfect agreement,
    0 = agreement by chance; NaN when there are fewer than two pairable values or no variation.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    item_id = pd.factorize(np.asarray(items))[0]  # hash-based: cheaper than sorting for many items
    levels, value_id = np.unique(values, return_inverse=True)
    n_levels = len(levels)
    counts = np.bincount(item_id * n_levels + value_id, minlength=(item_id.max() + 1) * n_levels)
    counts = counts.reshape(-1, n_levels).astype(float)
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if len(m) == 0:
        return float("nan")
    scaled = counts / (m - 1)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    c, k = np.meshgrid(np.arange(n_levels), np.arange(n_levels), indexing="ij")
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    delta2 = (cum[hi + 1] - cum[lo] - (n_c[lo] + n_c[hi]) / 2) ** 2
    expected = (np.outer(n_c, n_c) * delta2).sum()
    if n < 2 or expected == 0:
        return float("nan")
    return float(1 - (n - 1) * (coincidence * delta2).sum() / expected)


def alpha_by_instrument(inputs: Inputs, scheme: Scheme) -> pd.DataFrame:
    """Krippendorff's alpha (ordinal) of each instrument that has answers: raters are the coders, each
    (target unit, question) an item, answer points (0-100) the values. Columns: instrument, alpha."""
    idx = inputs.answer_index
    likert = is_likert(inputs.questions, idx.question) if len(idx.question) else np.zeros(0, dtype=bool)
    points = answer_points(inputs.answers["answer"].to_numpy(dtype=float), likert, scheme)
    item = idx.unit.astype(np.int64) * max(len(inputs.questions), 1) + idx.question
    answered = ~np.isnan(points)
    rows = []
    for name in INSTRUMENTS:
        if name not in idx.instruments:
            continue
        mask = (idx.instrument == idx.instruments.index(name)) & answered
        if mask.any():
            rows.append((name, krippendorff_alpha_ordinal(item[mask], points[mask])))
    return pd.DataFrame(rows, columns=["instrument", "alpha"]).astype({"alpha": float})


def quality(inputs: Inputs, scheme: Scheme) -> dict[str, pd.DataFrame]:
    """All data-quality frames: ``response_rates``, ``straight_liners``, ``alpha``."""
    return {
        "response_rates": response_rates(inputs.assignments),
        "straight_liners": straight_liners(inputs, scheme.straight_line_min),
        "alpha": alpha_by_instrument(inputs, scheme),
    }
