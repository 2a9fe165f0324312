"""Sensitivity analysis: stable ranks and grades, the review flag, determinism."""

import numpy as np
import pandas as pd
import pytest

import scoring


def near_tie_city(make_inputs):
    """A and B tie at 80 with opposite profiles (checkpoints vs institution); C, D, E are clearly fair."""
    # (on_time, not_done): checkpoints A 100, B 60, C/D/E 75
    cps = {"A": (4, 0), "B": (3, 2), "C": (3, 1), "D": (3, 1), "E": (3, 1)}
    checkpoints = [
        {"unit": u, "status": s} for u, (ok, bad) in cps.items() for s in ["on_time"] * ok + ["not_done"] * bad
    ]
    scores = {"A": 60, "B": 100, "C": 65, "D": 63, "E": 61}
    return make_inputs(
        units=list("ABCDE"), checkpoints=checkpoints, institution=[{"unit": u, "score": s} for u, s in scores.items()]
    )


def test_near_tie_at_a_grade_boundary_is_flagged(make_inputs, only_leaves, unit_of):
    """Do two units tied at the excellent boundary get flagged while clear units keep their grade?"""
    scheme = only_leaves({"checkpoints": 50, "institution": 50}, sensitivity={"draws": 400})
    result = scoring.compute(near_tie_city(make_inputs), scheme)
    # A: (100 + 60) / 2 = 80, B: (60 + 100) / 2 = 80, tie broken by code; C 70, D 69, E 68.
    # N = 5: one excellent (floor 1.0), none poor by rank (floor 0.5 = 0). Weight noise decides A vs B.
    a, b = unit_of(result, "A"), unit_of(result, "B")
    assert a["composite"] == b["composite"] == 80 and (a["grade"], b["grade"]) == ("excellent", "good")
    # A stays excellent whenever the checkpoints weight draws larger (about half the draws); B is good only at
    # the exact tie: otherwise it is either first (excellent) or below 80 (fair).
    assert 0.4 < a["grade_keep_prob"] < 0.6 and b["grade_keep_prob"] < 0.05
    assert a["review_flag"] and b["review_flag"]
    assert a["rank_p05"] == 1 and a["rank_p95"] == 2
    for u in "CDE":
        row = unit_of(result, u)
        assert row["grade"] == "fair" and row["grade_keep_prob"] == 1 and not row["review_flag"]
    pd.testing.assert_frame_equal(
        result.sensitivity.set_index("unit").loc[list("ABCDE")],
        result.units.set_index("unit").loc[list("ABCDE"), list(result.sensitivity.columns[1:])],
    )


def test_draws_without_variation_reproduce_the_result(make_inputs, only_leaves):
    """With no weight spread, trimming always on and m fixed, does every draw give the main ranks?"""
    scheme = only_leaves(
        {"checkpoints": 40, "institution": 30, "leader": 30},
        sensitivity={"draws": 50, "weight_spread": 0, "trim_probability": 1, "m_choices": [30]},
    )
    inputs = near_tie_city(make_inputs)
    result = scoring.compute(inputs, scheme)
    units = result.units
    assert (units["rank_median"] == units["rank"].astype(float)).all()
    assert (units["rank_p05"] == units["rank_p95"]).all() and (units["grade_keep_prob"] == 1).all()


def test_trimming_off_in_every_draw_moves_ranks(make_inputs, answer_rows, only_leaves, unit_of):
    """If trimming is never drawn, does a unit whose lead rests on trimming lose it in every draw?"""
    scheme = only_leaves({"leader": 100}, sensitivity={"draws": 30, "weight_spread": 0, "trim_probability": 0})
    rows = answer_rows("leader", "A", {f"a{i}": {"l1": a} for i, a in enumerate([5, 5, 5, 5, 1])})
    rows += answer_rows("leader", "B", {f"b{i}": {"l1": a} for i, a in enumerate([5, 5, 5, 4, 4])})
    # trimmed: A 100, B (100 + 100 + 75) / 3 = 91.67; untrimmed: A 80, B (300 + 150) / 5 = 90
    result = scoring.compute(make_inputs(units=["A", "B"], answers=rows), scheme)
    assert unit_of(result, "A")["rank"] == 1 and unit_of(result, "A")["rank_median"] == 2


def test_zero_draws_leave_the_columns_empty(make_inputs, only_leaves):
    """With 0 draws, are the sensitivity columns NaN and nothing flagged?"""
    scheme = only_leaves({"checkpoints": 50, "institution": 50}, sensitivity={"draws": 0})
    result = scoring.compute(near_tie_city(make_inputs), scheme)
    assert result.units["grade_keep_prob"].isna().all() and not result.units["review_flag"].any()


def city(make_inputs, answer_rows, n_units=40, seed=3):
    rng = np.random.default_rng(seed)
    codes = [f"U{i:02d}" for i in range(n_units)]
    units = [{"code": c, "category": "ab"[i % 2]} for i, c in enumerate(codes)]
    rows = []
    for c in codes:
        rows += answer_rows("leader", c, {f"L{r}": {"l1": int(rng.integers(1, 6))} for r in range(6)})
    ratings = [
        {"unit": c, "level": lvl, "is_default": False, "n": int(rng.integers(0, 20))}
        for c in codes
        for lvl in range(1, 6)
    ]
    return make_inputs(
        units=units,
        answers=rows,
        ratings=ratings,
        institution=[{"unit": c, "score": float(rng.uniform(50, 100))} for c in codes],
    )


def test_default_1000_draws_are_deterministic(make_inputs, answer_rows):
    """Do the scheme's 1000 draws run and give identical results on a second run?"""
    scheme = scoring.default_scheme()
    assert scheme.sensitivity.draws == 1000
    inputs = city(make_inputs, answer_rows)
    first, second = scoring.compute(inputs, scheme), scoring.compute(inputs, scheme)
    pd.testing.assert_frame_equal(first.sensitivity, second.sensitivity)
    s = first.sensitivity
    assert s["grade_keep_prob"].between(0, 1).all()
    assert ((s["rank_p05"] <= s["rank_median"]) & (s["rank_median"] <= s["rank_p95"])).all()
    assert s["rank_median"].notna().all()


def test_a_different_seed_gives_different_draws(make_inputs, answer_rows, make_scheme):
    """Is the seed used (another seed, other percentiles somewhere)?"""
    inputs = city(make_inputs, answer_rows)
    a = scoring.compute(inputs, make_scheme(sensitivity={"draws": 200, "seed": 1})).sensitivity
    b = scoring.compute(inputs, make_scheme(sensitivity={"draws": 200, "seed": 2})).sensitivity
    assert not a.equals(b)
    assert a["grade_keep_prob"].to_numpy() == pytest.approx(b["grade_keep_prob"].to_numpy(), abs=0.15)
