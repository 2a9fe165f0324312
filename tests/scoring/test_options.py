"""Scheme options (all off by default): rank-step, trimming, public method and m, defaults, point tables,
rater-effect adjustment."""

import numpy as np
import pytest
import yaml

import scoring


def with_leaf_option(only_leaves, weights, leaf_id, **leaf_settings):
    """A scheme from only_leaves whose leaf ``leaf_id`` gets extra settings."""
    base = only_leaves(weights)
    data = base.to_dict()
    for leaf in data["leaves"]:
        if leaf["id"] == leaf_id:
            leaf.update(leaf_settings)
    return scoring.load_scheme(yaml.safe_dump(data, allow_unicode=True))


def test_rank_step_points_within_category(make_inputs, only_leaves, leaf_of):
    """Does rank_step give 100, 100 - step, ... down to 60, ties split by code, per category?"""
    scheme = with_leaf_option(only_leaves, {"institution": 100}, "institution", rank_step=15)
    units = [{"code": c, "category": "x"} for c in "ABCDE"] + [{"code": "F", "category": "y"}, {"code": "G"}]
    scores = {"A": 90, "B": 80, "C": 80, "D": 10, "E": 5, "F": 1}
    result = scoring.compute(
        make_inputs(units=units, institution=[{"unit": u, "score": s} for u, s in scores.items()]), scheme
    )
    values = {u: leaf_of(result, u, "institution")["value"] for u in "ABCDEFG"}
    # category x: 100, 85, 70 (B before C by code), 55 -> 60, 40 -> 60; y: F alone 100; G: no score
    assert {u: values[u] for u in "ABCDEF"} == {"A": 100, "B": 85, "C": 70, "D": 60, "E": 60, "F": 100}
    assert np.isnan(values["G"])
    assert leaf_of(result, "D", "institution")["raw"] == 10


def raters(answers):
    return {f"r{i}": {"l1": a} for i, a in enumerate(answers)}


def leader_value(make_inputs, answer_rows, scheme, answers):
    result = scoring.compute(make_inputs(answers=answer_rows("leader", "A", raters(answers))), scheme)
    row = result.leaves[(result.leaves["unit"] == "A") & (result.leaves["leaf"] == "leader")].iloc[0]
    return row["value"]


def test_trimming_by_proportion(make_inputs, answer_rows, make_scheme):
    """Does proportion trimming drop floor(p x n) scores from each end?"""
    scheme = make_scheme(trimming={"method": "proportion", "proportion": 0.2})
    # n = 10, floor(2.0) = 2 each end: points sorted 0 0 25 25 50 50 75 75 100 100 -> keep 25..75 -> 50
    assert leader_value(make_inputs, answer_rows, scheme, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]) == 50
    # n = 4, floor(0.8) = 0: plain mean (100 + 100 + 75 + 0) / 4 = 68.75
    assert leader_value(make_inputs, answer_rows, scheme, [5, 5, 4, 1]) == 68.75
    # n = 5, floor(1.0) = 1: (100 + 75 + 25) / 3
    assert leader_value(make_inputs, answer_rows, scheme, [5, 5, 4, 2, 1]) == pytest.approx(200 / 3)


def test_no_trimming(make_inputs, answer_rows, make_scheme):
    """With trimming method none, is n = 5 a plain mean?"""
    scheme = make_scheme(trimming={"method": "none"})
    assert leader_value(make_inputs, answer_rows, scheme, [5, 5, 4, 2, 1]) == 60  # 300 / 5


def test_other_answer_point_table(make_inputs, answer_rows, make_scheme):
    """Does a 100/80/60/30/0 table replace (answer - 1) x 25?"""
    scheme = make_scheme(answer_points={5: 100, 4: 80, 3: 60, 2: 30, 1: 0})
    assert leader_value(make_inputs, answer_rows, scheme, [4, 2]) == 55  # (80 + 30) / 2


RATINGS = [
    {"unit": "A", "level": 5, "is_default": False, "n": 2},
    {"unit": "A", "level": 1, "is_default": False, "n": 1},
    {"unit": "A", "level": 5, "is_default": True, "n": 3},
    {"unit": "B", "level": 3, "is_default": False, "n": 3},
]


def public_value(make_inputs, scheme, unit="A"):
    result = scoring.compute(make_inputs(units=["A", "B"], ratings=RATINGS), scheme)
    return result.public.set_index("unit").loc[unit]


def test_another_m(make_inputs, make_scheme):
    """Does public.m change the pull toward the city mean (m = 0: the unit's own mean)?"""
    # A: n 3, sum 200; C = 350 / 6
    assert public_value(make_inputs, make_scheme(public={"m": 0}))["value"] == pytest.approx(200 / 3)
    expected = (200 + 60 * 350 / 6) / 63
    assert public_value(make_inputs, make_scheme(public={"m": 60}))["value"] == pytest.approx(expected)


def test_wilson_instead_of_bayes(make_inputs, make_scheme):
    """With method wilson, is public 100 x the Wilson lower bound of the good rate?"""
    row = public_value(make_inputs, make_scheme(public={"method": "wilson"}))
    assert row["value"] == pytest.approx(100 * 0.207655, abs=1e-4)  # 2 good of 3, see test_public


def test_counting_default_ratings(make_inputs, make_scheme):
    """With count_defaults, do default ratings count in n, the mean and C?"""
    row = public_value(make_inputs, make_scheme(public={"count_defaults": True}))
    # A: 5 x 100 + 0 = 500 over n 6; B: 150 over 3; C = 650 / 9
    c = 650 / 9
    assert row["n"] == 6 and row["city_mean"] == pytest.approx(c)
    assert row["value"] == pytest.approx((500 + 30 * c) / 36)
    assert row["good_rate"] == pytest.approx(5 / 6)


def test_rater_effect_balanced_equals_plain_mean(make_inputs, answer_rows, make_scheme, leaf_of):
    """When every rater rates every unit, is the rater-effect score the plain mean?"""
    scheme = make_scheme(rater_effect=True)
    rows = answer_rows("leader", "A", {"r1": {"l1": 3}, "r2": {"l1": 5}})
    rows += answer_rows("leader", "B", {"r1": {"l1": 2}, "r2": {"l1": 4}})
    result = scoring.compute(make_inputs(units=["A", "B"], answers=rows), scheme)
    assert leaf_of(result, "A", "leader")["value"] == pytest.approx(75)  # (50 + 100) / 2
    assert leaf_of(result, "B", "leader")["value"] == pytest.approx(50)  # (25 + 75) / 2


def test_rater_effect_corrects_a_harsh_rater(make_inputs, answer_rows, make_scheme, leaf_of):
    """Does the rater-effect fit lift a unit rated only by a harsh rater?"""
    rows = answer_rows("leader", "A", {"r1": {"l1": 4}, "r2": {"l1": 5}})  # 75, 100
    rows += answer_rows("leader", "B", {"r1": {"l1": 2}})  # 25, by r1 only
    # Exact fit of y = mu + a_r + b_u with a1 + a2 = 0: 75 = mu + a1 + bA, 100 = mu - a1 + bA: a1 = -12.5;
    # A = mu + bA = 87.5 and B = mu + bB = 25 - a1 = 37.5 (plain means: 87.5 and 25)
    result = scoring.compute(make_inputs(units=["A", "B"], answers=rows), make_scheme(rater_effect=True))
    assert leaf_of(result, "A", "leader")["value"] == pytest.approx(87.5)
    assert leaf_of(result, "B", "leader")["value"] == pytest.approx(37.5)
    plain = scoring.compute(make_inputs(units=["A", "B"], answers=rows), make_scheme())
    assert leaf_of(plain, "B", "leader")["value"] == 25
