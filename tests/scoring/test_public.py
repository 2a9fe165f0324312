"""The public leaf (好差评): Bayesian average, Wilson bound, default ratings."""

import numpy as np
import pytest

import scoring

RATINGS = [
    {"unit": "A", "level": 5, "is_default": False, "n": 2},
    {"unit": "A", "level": 1, "is_default": False, "n": 1},
    {"unit": "A", "level": 5, "is_default": True, "n": 10},
    {"unit": "B", "level": 3, "is_default": False, "n": 3},
]


def public_of(result, unit):
    return result.public.set_index("unit").loc[unit]


def test_bayesian_average_toward_the_city_mean(make_inputs, scheme, leaf_of):
    """Is public = (n x̄ + m C) / (n + m) with m = 30 and C over all units' non-default ratings?"""
    result = scoring.compute(make_inputs(units=["A", "B", "C"], ratings=RATINGS), scheme)
    # A: points 100, 100, 0 -> n 3, sum 200; B: 50 x 3 -> sum 150; C = (200 + 150) / 6 = 58.333
    # A: (200 + 30 x 58.333) / (3 + 30) = 1950 / 33 = 59.09;  B: (150 + 1750) / 33 = 57.58
    a, b = public_of(result, "A"), public_of(result, "B")
    assert a["city_mean"] == pytest.approx(350 / 6)
    assert a["value"] == pytest.approx(1950 / 33) and b["value"] == pytest.approx(1900 / 33)
    assert a["n"] == 3 and a["mean_points"] == pytest.approx(200 / 3)
    assert leaf_of(result, "A", "public")["value"] == pytest.approx(1950 / 33)
    assert leaf_of(result, "A", "public")["n"] == 3


def test_reported_rates_beside_the_score(make_inputs, scheme):
    """Are good rate, bad count, Wilson lower bound and default share reported?"""
    result = scoring.compute(make_inputs(units=["A", "B", "C"], ratings=RATINGS), scheme)
    a = public_of(result, "A")
    assert a["good_rate"] == pytest.approx(2 / 3) and a["bad_count"] == 1
    assert a["default_share"] == pytest.approx(10 / 13)  # 10 default of 13 ratings
    # Wilson, p = 2/3, n = 3, z = 1.96, z² = 3.8416:
    # centre = 2/3 + 3.8416/6 = 1.3069333; radicand = (2/9)/3 + 3.8416/36 = 0.1807852, sqrt 0.4251884
    # (1.3069333 - 1.96 x 0.4251884) / (1 + 3.8416/3) = 0.4735640 / 2.2805333 = 0.207655
    assert a["wilson_lower"] == pytest.approx(0.207655, abs=1e-6)


def test_no_value_without_ratings(make_inputs, scheme, leaf_of):
    """Does a unit with no (or only default) ratings get no public value?"""
    ratings = RATINGS + [{"unit": "C", "level": 4, "is_default": True, "n": 5}]
    result = scoring.compute(make_inputs(units=["A", "B", "C"], ratings=ratings), scheme)
    c = public_of(result, "C")
    assert c["n"] == 0 and np.isnan(c["value"]) and np.isnan(c["good_rate"]) and np.isnan(c["wilson_lower"])
    assert c["default_share"] == 1.0
    assert np.isnan(leaf_of(result, "C", "public")["value"])


def test_ratings_rows_of_the_same_level_add_up(make_inputs, scheme):
    """Are two rows of one unit and level summed (the aggregate may arrive split)?"""
    split = [{"unit": "A", "level": 4, "is_default": False, "n": 1}] * 2
    result = scoring.compute(make_inputs(ratings=split), scheme)
    assert public_of(result, "A")["n"] == 2 and public_of(result, "A")["value"] == pytest.approx(75)


def test_wilson_helper_matches_the_formula():
    """Does wilson_lower give the textbook value for 8 good of 10 (0.490157)?"""
    from scoring.leaves import wilson_lower

    # p = 0.8: (0.8 + 0.19208 - 1.96 sqrt(0.016 + 0.009604)) / 1.38416 = 0.678463 / 1.38416 = 0.490157
    assert wilson_lower(np.array([8.0]), np.array([10.0]), 1.96)[0] == pytest.approx(0.490157, abs=1e-6)
