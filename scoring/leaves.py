"""Leaf scores (tertiary indicators), points 0-100, from the input frames.

``prepare`` does the work that does not depend on the two settings the sensitivity analysis varies (trimming
on/off and the public ``m``): per-rater leaf scores, rating counts, check point, institution and problem
tallies. ``leaf_arrays`` then turns a ``Prepared`` into (leaf x unit) arrays for given trimming and ``m``;
it is cheap, so the sensitivity analysis calls it once per combination instead of once per draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .inputs import Inputs
from .scheme import Leaf, Scheme
from .wilson import wilson_bounds

#: Iterations and tolerance (points) of the rater-effect fit.
_ALS_MAX_ITER = 500
_ALS_TOL = 1e-10


@dataclass
class Prepared:
    """Per-unit tallies and per-rater scores of one run; unit order is ``codes``."""

    codes: np.ndarray
    categories: np.ndarray
    #: leaf, unit (positions), rater (code), instrument, score (points 0-100): each rater's weighted mean over
    #: the leaf's questions they answered.
    rater_scores: pd.DataFrame
    #: Indexed by unit: n, points (sum of points), good, bad, defaults, total (all ratings incl. defaults).
    ratings: pd.DataFrame
    #: City mean points C of all counted ratings of the period (NaN when there are none).
    city_mean: float
    #: Indexed by unit: value (points), n (on_time + late + not_done).
    checkpoints: pd.DataFrame
    #: Indexed by unit: score.
    institution: pd.Series
    #: Indexed by unit: problems, overdue (points), n_problems, n_overdue, suspended (bool).
    problems: pd.DataFrame
    #: Indexed by unit: sum of bonus points (before the cap).
    bonus_points: pd.Series


@dataclass
class LeafArrays:
    """Leaf scores as (leaf x unit) arrays in scheme leaf order and unit order."""

    #: Score used in the composite (after the rank-step option), NaN when the leaf has no value.
    value: np.ndarray
    #: Score before the rank-step option.
    raw: np.ndarray
    #: Sample size: counted raters / counted ratings / check point denominator / 1 / number of problems.
    n: np.ndarray
    #: Questionnaire leaf hidden because 0 < n < min_n of its instrument.
    suppressed: np.ndarray


def prepare(inputs: Inputs, scheme: Scheme) -> Prepared:
    """Tally everything the leaves need that does not depend on trimming or the public ``m``."""
    codes = inputs.units["code"].to_numpy(dtype=object)
    ratings, city_mean = _rating_tallies(inputs.ratings, scheme)
    return Prepared(
        codes=codes,
        categories=inputs.units["category"].to_numpy(dtype=object),
        rater_scores=rater_scores(inputs, scheme),
        ratings=ratings,
        city_mean=city_mean,
        checkpoints=checkpoint_scores(inputs.checkpoints),
        institution=inputs.institution.set_index("unit")["score"],
        problems=problem_points(inputs.problems, inputs.as_of, scheme),
        bonus_points=inputs.bonuses.groupby("unit")["points"].sum(),
    )


# -- questionnaires ------------------------------------------------------------------------------------------


def answer_points(answers: np.ndarray, likert: np.ndarray, scheme: Scheme) -> np.ndarray:
    """Points 0-100 of each answer: likert5 (``likert`` true: the answer's question is likert5) through the
    scheme's table ((answer - 1) x 25 by default), score100 as given; NaN for don't know / unanswered."""
    answers = np.asarray(answers, dtype=float)
    table = np.full(6, np.nan)
    for level, points in scheme.answer_points.items():
        table[level] = points
    likert_points = table[np.where(np.isin(answers, [1, 2, 3, 4, 5]), answers, 0).astype(int)]
    return np.where(np.asarray(likert, dtype=bool), likert_points, answers)


def is_likert(questions: pd.DataFrame, question: np.ndarray) -> np.ndarray:
    """Per answer (``question``: its row in ``questions``): is the question likert5? Compared once per question."""
    return (questions["type"].to_numpy(dtype=object) == "likert5")[question]


def leaf_questions(questions: pd.DataFrame, leaf: Leaf) -> np.ndarray:
    """Which rows of ``questions`` feed a questionnaire leaf: the leaf's instrument and, if the leaf names a
    theme, only questions of that theme. A question may feed several leaves."""
    mask = questions["instrument"].to_numpy(dtype=object) == leaf.source
    if leaf.theme is not None:
        mask = mask & (questions["theme"].to_numpy(dtype=object) == leaf.theme)
    return mask


_RATER_SCORES_EMPTY = pd.DataFrame(
    {
        "leaf": np.zeros(0, int),
        "unit": np.zeros(0, int),
        "rater": np.zeros(0, int),
        "instrument": np.zeros(0, object),
        "score": np.zeros(0),
    }
)


def rater_scores(inputs: Inputs, scheme: Scheme) -> pd.DataFrame:
    """Each rater's score per questionnaire leaf and target unit (points 0-100).

    The weighted mean (question weights) of the points of the leaf's questions the rater answered; a rater who
    answered none of them (all don't know) or only zero-weight ones gives no score for that leaf. Returns
    leaf (position in ``scheme.leaves``), unit (position in ``inputs.units``), rater (rater code), instrument,
    score.
    """
    q = inputs.questions
    idx = inputs.answer_index
    answer = inputs.answers["answer"].to_numpy(dtype=float)
    if answer.size == 0:
        return _RATER_SCORES_EMPTY.copy()
    points = answer_points(answer, is_likert(q, idx.question), scheme)
    weight = q["weight"].to_numpy(dtype=float)[idx.question]
    answered = ~np.isnan(points)
    n_units = len(inputs.units)
    parts = []
    for i, leaf in enumerate(scheme.leaves):
        if not leaf.is_questionnaire:
            continue
        rows = answered & leaf_questions(q, leaf)[idx.question]
        if not rows.any():
            continue
        # Sum per (rater, unit) with one bincount over a combined integer key.
        key = idx.rater[rows].astype(np.int64) * n_units + idx.unit[rows]
        cells, cell = np.unique(key, return_inverse=True)
        w = weight[rows]
        w_sum = np.bincount(cell, w)
        wp_sum = np.bincount(cell, w * points[rows])
        ok = w_sum > 0
        parts.append(
            pd.DataFrame(
                {
                    "leaf": i,
                    "unit": (cells % n_units)[ok],
                    "rater": (cells // n_units)[ok],
                    "instrument": leaf.source,
                    "score": wp_sum[ok] / w_sum[ok],
                }
            )
        )
    if not parts:
        return _RATER_SCORES_EMPTY.copy()
    return pd.concat(parts, ignore_index=True)


def aggregate_raters(scores: pd.DataFrame, scheme: Scheme, trim: bool) -> pd.DataFrame:
    """Unit score per questionnaire leaf from rater scores: the (trimmed) mean over counted raters.

    With ``n`` counted raters: ``one_each`` drops exactly one highest and one lowest score when
    n >= ``trimming.from_n`` (5), ``proportion`` drops floor(proportion x n) from each end, ``none`` or
    ``trim=False`` takes the plain mean. With the rater-effect option the score is mu + unit effect instead.
    The min_n rule is applied later (``leaf_states``). Returns leaf, unit (positions), value (points), n.
    """
    if scores.empty:
        return pd.DataFrame(
            {"leaf": np.zeros(0, int), "unit": np.zeros(0, int), "value": np.zeros(0), "n": np.zeros(0, int)}
        )
    if scheme.rater_effect:
        return _rater_effect(scores)
    n_units = int(scores["unit"].max()) + 1
    key = scores["leaf"].to_numpy(np.int64) * n_units + scores["unit"].to_numpy(np.int64)
    score = scores["score"].to_numpy(dtype=float)
    order = np.lexsort((score, key))
    key, score = key[order], score[order]
    cells, start, count = np.unique(key, return_index=True, return_counts=True)
    cell = np.repeat(np.arange(len(cells)), count)
    n = count[cell]
    pos = np.arange(len(key)) - start[cell]
    method = scheme.trimming.method if trim else "none"
    if method == "one_each":
        k = (n >= scheme.trimming.from_n).astype(int)
    elif method == "proportion":
        k = np.floor(np.round(scheme.trimming.proportion * n, 9)).astype(int)
    else:
        k = np.zeros_like(n)
    kept = ((pos >= k) & (pos < n - k)).astype(float)
    value = np.bincount(cell, score * kept) / np.bincount(cell, kept)
    return pd.DataFrame({"leaf": cells // n_units, "unit": cells % n_units, "value": value, "n": count})


def _rater_effect(scores: pd.DataFrame) -> pd.DataFrame:
    """Fit points = mu_leaf + rater effect + unit effect per instrument by alternating least squares.

    The rater effect is shared by all leaves of the instrument (a harsh rater is harsh on every theme); rater
    effects are centred on 0 (plain mean over raters), starting from 0. Score = mu_leaf + unit effect, so with
    every rater rating every unit the score equals the plain mean.
    """
    parts = []
    for _, block in scores.groupby("instrument", sort=False):
        rater, _ = pd.factorize(block["rater"])
        leaf = block["leaf"].to_numpy(np.int64)
        unit = block["unit"].to_numpy(np.int64)
        stride = unit.max() + 1
        cells, cell = np.unique(leaf * stride + unit, return_inverse=True)
        leaf_id = np.unique(leaf, return_inverse=True)[1]
        y = block["score"].to_numpy(dtype=float)
        mu = np.bincount(leaf_id, y) / np.bincount(leaf_id)
        r = y - mu[leaf_id]
        n_cell = np.bincount(cell)
        n_rater = np.bincount(rater)
        a = np.zeros(len(n_rater))
        b = np.bincount(cell, r) / n_cell
        for _ in range(_ALS_MAX_ITER):
            a_new = np.bincount(rater, r - b[cell]) / n_rater
            a_new -= a_new.mean()
            b_new = np.bincount(cell, r - a_new[rater]) / n_cell
            change = max(np.abs(a_new - a).max(), np.abs(b_new - b).max())
            a, b = a_new, b_new
            if change < _ALS_TOL:
                break
        cell_mu = np.bincount(cell, mu[leaf_id]) / n_cell
        parts.append(pd.DataFrame({"leaf": cells // stride, "unit": cells % stride, "value": cell_mu + b, "n": n_cell}))
    return pd.concat(parts, ignore_index=True)


# -- public ratings (好差评) --------------------------------------------------------------------------------


def _rating_tallies(ratings: pd.DataFrame, scheme: Scheme) -> tuple[pd.DataFrame, float]:
    """Per-unit counts and point sums of the counted ratings, and the city mean C (points)."""
    r = ratings[ratings["n"] > 0]
    n = r["n"].to_numpy(dtype=float)
    level = r["level"].to_numpy(dtype=float)
    default = r["is_default"].to_numpy(dtype=bool)
    counted = n if scheme.public.count_defaults else np.where(default, 0.0, n)
    points = pd.Series(level).map(scheme.public.level_points).to_numpy(dtype=float) * counted
    tallies = (
        pd.DataFrame(
            {
                "unit": r["unit"].to_numpy(dtype=object),
                "n": counted,
                "points": points,
                "good": np.where(level >= 4, counted, 0.0),
                "bad": np.where(level <= 2, counted, 0.0),
                "defaults": np.where(default, n, 0.0),
                "total": n,
            }
        )
        .groupby("unit")
        .sum()
    )
    total_n = counted.sum()
    city_mean = float(points.sum() / total_n) if total_n > 0 else float("nan")
    return tallies, city_mean


def wilson_lower(good: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """Wilson score lower bound of the proportion good/n (0-1) at normal quantile ``z``; NaN when n = 0."""
    return wilson_bounds(good, n, z)[0]


def public_values(prep: Prepared, scheme: Scheme, m: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``public`` leaf per unit (points) and its n (counted ratings): (n·x̄ + m·C)/(n + m), or
    100 x the Wilson lower bound of the good rate with ``method: wilson``; NaN when n = 0."""
    t = prep.ratings.reindex(prep.codes, fill_value=0.0)
    n = t["n"].to_numpy(dtype=float)
    if scheme.public.method == "wilson":
        return 100.0 * wilson_lower(t["good"].to_numpy(dtype=float), n, scheme.public.z), n
    has = n > 0
    points = t["points"].to_numpy(dtype=float)
    return np.where(has, (points + m * prep.city_mean) / np.where(has, n + m, 1.0), np.nan), n


def public_table(prep: Prepared, scheme: Scheme) -> pd.DataFrame:
    """The ``public`` leaf with what is reported beside it, one row per unit.

    Columns: unit, n (counted ratings), mean_points (x̄), city_mean (C), good_rate (levels 4-5 / n),
    bad_count (levels 1-2), wilson_lower (0-1, of the good rate), default_share (system-default ratings / all
    ratings), value (``public_values`` with the scheme's m).
    """
    t = prep.ratings.reindex(prep.codes, fill_value=0.0)
    value, n = public_values(prep, scheme, scheme.public.m)
    has = n > 0
    safe_n = np.where(has, n, 1.0)
    total = t["total"].to_numpy(dtype=float)
    safe_total = np.where(total > 0, total, 1.0)
    return pd.DataFrame(
        {
            "unit": prep.codes,
            "n": n.astype(int),
            "mean_points": np.where(has, t["points"].to_numpy(dtype=float) / safe_n, np.nan),
            "city_mean": prep.city_mean,
            "good_rate": np.where(has, t["good"].to_numpy(dtype=float) / safe_n, np.nan),
            "bad_count": t["bad"].to_numpy().astype(int),
            "wilson_lower": wilson_lower(t["good"].to_numpy(dtype=float), n, scheme.public.z),
            "default_share": np.where(total > 0, t["defaults"].to_numpy(dtype=float) / safe_total, np.nan),
            "value": value,
        }
    )


# -- ledgers -----------------------------------------------------------------------------------------------


def checkpoint_scores(checkpoints: pd.DataFrame) -> pd.DataFrame:
    """Per unit: value = 100 x (on_time + 0.5 x late) / (on_time + late + not_done) points, and n = that
    denominator; waived items are left out; NaN when the denominator is 0."""
    counts = pd.crosstab(checkpoints["unit"], checkpoints["status"]) if len(checkpoints) else pd.DataFrame()
    counts = counts.reindex(columns=["on_time", "late", "not_done"], fill_value=0)
    n = counts.sum(axis=1)
    value = (100.0 * (counts["on_time"] + 0.5 * counts["late"]) / n.where(n > 0)).astype(float)
    return pd.DataFrame({"value": value, "n": n})


def problem_flags(deadline, closed_on, as_of) -> tuple[pd.Series, pd.Series]:
    """The overdue test (超期) and approval suspension (审批联动) of each problem, as scoring.md says.

    - overdue: open (closed_on empty) with its deadline before ``as_of``, or closed after its deadline;
    - suspends approvals: still open on ``as_of`` past its deadline (deadline < as_of and closed_on empty or
      after ``as_of``).
    A problem without a deadline is neither. ``deadline`` and ``closed_on`` are sequences of dates (None/NaT
    for none); returns two boolean Series in their order. The one source of this rule: the engine's deductions,
    the console pages, the report and the exports all use it.
    """
    as_of = pd.Timestamp(as_of)
    deadline = pd.to_datetime(pd.Series(deadline))
    closed_on = pd.to_datetime(pd.Series(closed_on).set_axis(deadline.index))
    late_deadline = deadline < as_of
    open_now = closed_on.isna()
    overdue = (open_now & late_deadline) | (closed_on > deadline)
    suspended = late_deadline & (open_now | (closed_on > as_of))
    return overdue, suspended


def problem_points(problems: pd.DataFrame, as_of, scheme: Scheme) -> pd.DataFrame:
    """Per unit: problems and overdue deduction points, counts, and approval suspension.

    - problems: sum of severity points (general 0.5, serious 1, grave 2).
    - overdue: the same points again for each overdue problem: closed_on empty and deadline < as_of, or
      closed_on > deadline. A problem without a deadline is never overdue.
    - suspended (审批联动): some problem was still open on ``as_of`` past its deadline: deadline < as_of and
      (closed_on empty or closed_on > as_of). A problem closed after ``as_of`` counts as open on ``as_of``, so
      re-running the period later gives the same answer.
    """
    p = problems
    points = p["severity"].map(scheme.deduction.points).astype(float)
    overdue, suspended = problem_flags(p["deadline"], p["closed_on"], as_of)
    frame = pd.DataFrame(
        {
            "unit": p["unit"],
            "problems": points,
            "overdue": points.where(overdue, 0.0),
            "n_problems": 1,
            "n_overdue": overdue.astype(int),
            "suspended": suspended.astype(int),
        }
    )
    totals = frame.groupby("unit").sum()
    totals["suspended"] = totals["suspended"] > 0
    return totals


# -- all leaves ------------------------------------------------------------------------------------------


def leaf_arrays(prep: Prepared, scheme: Scheme, *, trim: bool = True, m: float | None = None) -> LeafArrays:
    """All leaf scores as (leaf x unit) arrays, in scheme leaf order and unit order.

    ``trim=False`` switches trimming off and ``m`` replaces the public ``m`` (the sensitivity analysis varies
    both). Questionnaire leaves with 0 < n < min_n are suppressed (no value); deduction leaves hold their
    points (0 when the unit has no problems); the rank-step option is applied last.
    """
    m = scheme.public.m if m is None else m
    return leaf_states(prep, scheme, (trim,), (m,))[trim, m]


def leaf_states(prep: Prepared, scheme: Scheme, trims, ms) -> dict[tuple[bool, float], LeafArrays]:
    """``leaf_arrays`` for every combination of trimming in ``trims`` and public ``m`` in ``ms``, sharing the
    parts that do not change (ledger leaves once, questionnaire leaves once per trimming)."""
    codes = pd.Index(prep.codes)
    shape = (len(scheme.leaves), len(codes))
    raw = np.full(shape, np.nan)
    n = np.zeros(shape)
    for i, leaf in enumerate(scheme.leaves):
        if leaf.source == "checkpoints":
            part = prep.checkpoints.reindex(codes)
            raw[i] = part["value"].to_numpy(dtype=float)
            n[i] = part["n"].fillna(0).to_numpy(dtype=float)
        elif leaf.source == "institution":
            raw[i] = prep.institution.reindex(codes).to_numpy(dtype=float)
            n[i] = ~np.isnan(raw[i])
        elif leaf.is_deduction:
            part = prep.problems.reindex(codes)
            raw[i] = part[leaf.source].fillna(0.0).to_numpy(dtype=float)
            n[i] = part["n_problems" if leaf.source == "problems" else "n_overdue"].fillna(0).to_numpy()
    questionnaire = [i for i, leaf in enumerate(scheme.leaves) if leaf.is_questionnaire]
    public = [i for i, leaf in enumerate(scheme.leaves) if leaf.source == "public"]
    min_n = np.array([scheme.min_n[scheme.leaves[i].source] for i in questionnaire])
    states = {}
    for trim in trims:
        q_raw, q_n = raw.copy(), n.copy()
        rows = aggregate_raters(prep.rater_scores, scheme, trim)
        leaf, unit = rows["leaf"].to_numpy(int), rows["unit"].to_numpy(int)
        q_raw[leaf, unit] = rows["value"].to_numpy()
        q_n[leaf, unit] = rows["n"].to_numpy()
        # min_n: too few raters -> no value, and never shown on its own (anonymity)
        hide = np.zeros(shape, dtype=bool)
        hide[questionnaire] = q_n[questionnaire] < min_n[:, None]
        q_raw[hide] = np.nan
        suppressed = hide & (q_n > 0)
        for m in ms:
            state_raw, state_n = q_raw.copy(), q_n.copy()
            if public:
                value, count = public_values(prep, scheme, m)
                state_raw[public], state_n[public] = value, count
            state_value = state_raw.copy()
            for i, leaf in enumerate(scheme.leaves):
                if leaf.rank_step is not None:
                    state_value[i] = rank_step_points(state_raw[i], prep.categories, prep.codes, leaf.rank_step)
            states[trim, m] = LeafArrays(value=state_value, raw=state_raw, n=state_n, suppressed=suppressed)
    return states


def rank_step_points(values: np.ndarray, categories: np.ndarray, codes: np.ndarray, step: float) -> np.ndarray:
    """Option (Zibo rank-step scoring): within each category, first place 100 points, each further rank
    ``step`` points lower, never below 60; ties broken by unit code ascending so no two units share a rank.
    Units without a value keep none."""
    frame = pd.DataFrame({"value": values, "category": categories, "code": codes})
    frame = frame[frame["value"].notna()].sort_values(["category", "value", "code"], ascending=[True, False, True])
    rank = frame.groupby("category", sort=False).cumcount().to_numpy()
    out = np.full(len(values), np.nan)
    out[frame.index.to_numpy()] = np.maximum(60.0, 100.0 - step * rank)
    return out
