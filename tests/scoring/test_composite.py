"""Composite, coverage, ranks without ties, grades, assessment points, establishment actions."""

import math

import numpy as np
import pytest

import scoring


def institution(**scores):
    return [{"unit": u, "score": s} for u, s in scores.items()]


def test_missing_leaves_spread_their_weight(make_inputs, only_leaves, unit_of):
    """Does a unit missing a leaf get the weighted mean of its other leaves, and coverage their weight?"""
    scheme = only_leaves({"checkpoints": 50, "institution": 30, "leader": 20})
    cps = [{"unit": "A", "status": "on_time"}] * 4 + [{"unit": "A", "status": "not_done"}]  # 80
    result = scoring.compute(make_inputs(checkpoints=cps, institution=institution(A=90)), scheme)
    a = unit_of(result, "A")
    # (50 x 80 + 30 x 90) / (50 + 30) = 6700 / 80 = 83.75; coverage (50 + 30) / 100 = 0.8
    assert a["base"] == pytest.approx(83.75) and a["composite"] == pytest.approx(83.75)
    assert a["coverage"] == pytest.approx(0.8) and not a["low_coverage"]


def test_low_coverage_flag(make_inputs, only_leaves, unit_of):
    """Is a unit whose leaves with values weigh less than 65 flagged?"""
    scheme = only_leaves({"checkpoints": 36, "institution": 64})
    result = scoring.compute(
        make_inputs(
            units=["A", "B"], institution=institution(A=80, B=80), checkpoints=[{"unit": "B", "status": "on_time"}]
        ),
        scheme,
    )
    assert unit_of(result, "A")["coverage"] == pytest.approx(0.64) and unit_of(result, "A")["low_coverage"]
    assert unit_of(result, "B")["coverage"] == pytest.approx(1.0) and not unit_of(result, "B")["low_coverage"]
    # B: (36 x 100 + 64 x 80) / 100 = 87.2
    assert unit_of(result, "B")["base"] == pytest.approx(87.2)


def test_rank_tie_breakers(make_inputs, only_leaves, unit_of):
    """Is the order round(composite, 2) desc, then round(base, 2) desc, then code asc, without ties?"""
    scheme = only_leaves({"institution": 100})
    problems = [{"unit": "P", "severity": "grave", "deadline": "2027-06-01", "closed_on": None}]
    result = scoring.compute(
        make_inputs(
            units=["E", "P", "Q", "D", "C"],
            institution=institution(E=90, P=82, Q=79, D=75.001, C=75.004),
            problems=problems,
            bonuses=[{"unit": "Q", "points": 1}],
        ),
        scheme,
    )
    # E 90 first. P: 82 - 2 = 80 and Q: 79 + 1 = 80 tie on composite; base 82 > 79 puts P first.
    # D 75.001 and C 75.004: composite and base both round to 75.00; code C < D puts C first.
    ranks = {u: unit_of(result, u)["rank"] for u in "EPQDC"}
    assert ranks == {"E": 1, "P": 2, "Q": 3, "C": 4, "D": 5}
    assert list(result.units["unit"]) == ["E", "P", "Q", "C", "D"]  # ordered by category, rank


def test_ranks_are_within_category(make_inputs, only_leaves, unit_of):
    """Does each category rank from 1?"""
    units = [{"code": "A", "category": "x"}, {"code": "B", "category": "y"}, {"code": "C", "category": "x"}]
    result = scoring.compute(
        make_inputs(units=units, institution=institution(A=50, B=40, C=60)), only_leaves({"institution": 100})
    )
    assert [unit_of(result, u)["rank"] for u in "ABC"] == [2, 1, 1]


def ten_units(scores):
    codes = [f"U{i}" for i in range(len(scores))]
    return codes, institution(**dict(zip(codes, scores, strict=False)))


def test_every_grade_branch_in_order(make_inputs, only_leaves, unit_of):
    """Do the grade rules apply first-match in the written order for N = 10?"""
    # N = 10: excellent ranks <= floor(2.0) = 2; poor ranks > 10 - floor(1.0) = 9
    codes, scores = ten_units([95, 94, 85, 84, 79, 70, 65, 61, 59.9, 58])
    result = scoring.compute(make_inputs(units=codes, institution=scores), only_leaves({"institution": 100}))
    grades = [unit_of(result, u)["grade"] for u in codes]
    assert grades == ["excellent"] * 2 + ["good"] * 2 + ["fair"] * 4 + ["poor"] * 2


def test_excellent_by_rank_wins_over_low_composite(make_inputs, only_leaves, unit_of):
    """Is a top-20% unit excellent even below 60, and a bottom-10% unit poor even above 80?"""
    codes, scores = ten_units([55, 54, 53, 52, 51, 50, 49, 48, 47, 46])
    result = scoring.compute(make_inputs(units=codes, institution=scores), only_leaves({"institution": 100}))
    assert [unit_of(result, u)["grade"] for u in codes[:3]] == ["excellent", "excellent", "poor"]
    codes, scores = ten_units([99, 98, 97, 96, 95, 94, 93, 92, 91, 90])
    result = scoring.compute(make_inputs(units=codes, institution=scores), only_leaves({"institution": 100}))
    assert unit_of(result, "U8")["grade"] == "good" and unit_of(result, "U9")["grade"] == "poor"


def test_small_category_has_no_rank_quota(make_inputs, only_leaves, unit_of):
    """With N = 4, floor(0.8) = floor(0.4) = 0: is nobody excellent or poor by rank?"""
    codes, scores = ten_units([95, 85, 70, 61])
    result = scoring.compute(make_inputs(units=codes, institution=scores), only_leaves({"institution": 100}))
    assert [unit_of(result, u)["grade"] for u in codes] == ["good", "good", "fair", "fair"]


def test_five_units_one_excellent_no_rank_poor(make_inputs, only_leaves, unit_of):
    """With N = 5: floor(1.0) = 1 excellent, floor(0.5) = 0 poor by rank?"""
    codes, scores = ten_units([70, 69, 68, 67, 66])
    result = scoring.compute(make_inputs(units=codes, institution=scores), only_leaves({"institution": 100}))
    assert [unit_of(result, u)["grade"] for u in codes] == ["excellent", "fair", "fair", "fair", "fair"]


def test_assessment_points(make_inputs, only_leaves, unit_of):
    """Is assessment_points = round(4 x composite / 100, 2)?"""
    result = scoring.compute(
        make_inputs(units=["A", "B"], institution=institution(A=87.654, B=100)), only_leaves({"institution": 100})
    )
    assert unit_of(result, "A")["assessment_points"] == 3.51  # 4 x 87.654 / 100 = 3.50616
    assert unit_of(result, "B")["assessment_points"] == 4.0


def test_establishment_actions_and_reduction(make_inputs, only_leaves, unit_of):
    """Are actions priority/maintain/restrict, and reduction min(vacancies, ceil(0.05 x establishment))?"""
    units = [
        {"code": "T", "establishment": 60, "actual_staff": 40},  # 95: excellent -> priority, no cut
        {"code": "M", "establishment": 60, "actual_staff": 40},  # 70: fair -> maintain
        {"code": "R1", "establishment": 60, "actual_staff": 50},  # vacancies 10, ceil(3.0) = 3 -> 3
        {"code": "R2", "establishment": 60, "actual_staff": 59},  # vacancies 1 -> 1
        {"code": "R3", "establishment": 60, "actual_staff": 65},  # over establishment: 0
        {"code": "R4", "establishment": 21, "actual_staff": 10},  # ceil(1.05) = 2 -> 2
        {"code": "R5", "establishment": np.nan, "actual_staff": 10},  # unknown establishment: 0
        {"code": "R6", "establishment": 60, "actual_staff": np.nan},  # unknown staff: no known vacancy, 0
    ]
    scores = institution(T=95, M=70, R1=50, R2=50, R3=50, R4=50, R5=50, R6=50)
    result = scoring.compute(make_inputs(units=units, institution=scores), only_leaves({"institution": 100}))
    got = {
        u["code"]: (
            unit_of(result, u["code"])["establishment_action"],
            unit_of(result, u["code"])["suggested_reduction"],
        )
        for u in units
    }
    assert got == {
        "T": ("priority", 0),
        "M": ("maintain", 0),
        "R1": ("restrict", 3),
        "R2": ("restrict", 1),
        "R3": ("restrict", 0),
        "R4": ("restrict", 2),
        "R5": ("restrict", 0),
        "R6": ("restrict", 0),
    }


def test_reduction_is_not_fooled_by_binary_fractions(make_inputs, only_leaves, unit_of):
    """With reduction_share 0.07 and establishment 100, is the cut ceil(7) = 7, not 8?"""
    assert math.ceil(0.07 * 100) == 8  # 0.07 x 100 = 7.000000000000001 in binary floating point
    units = [{"code": "A", "establishment": 100, "actual_staff": 80}]  # vacancies 20
    result = scoring.compute(
        make_inputs(units=units, institution=institution(A=50)), only_leaves({"institution": 100}, reduction_share=0.07)
    )
    assert unit_of(result, "A")["suggested_reduction"] == 7


def test_units_frame_columns_are_the_contract(make_inputs, scheme):
    """Does Result.units have exactly the documented columns in order?"""
    result = scoring.compute(make_inputs(), scheme)
    assert list(result.units.columns) == scoring.UNIT_COLUMNS
    assert list(result.leaves.columns) == scoring.LEAF_COLUMNS
    assert list(result.public.columns) == [
        "unit",
        "n",
        "mean_points",
        "city_mean",
        "good_rate",
        "bad_count",
        "wilson_lower",
        "default_share",
        "value",
    ]
    assert result.scheme_fingerprint == scheme.fingerprint


def test_wide_leaves_in_scheme_order(make_inputs, scheme):
    """Does wide_leaves give one column per leaf id in scheme order, one row per unit?"""
    result = scoring.compute(make_inputs(units=["A", "B"], institution=institution(B=88)), scheme)
    wide = scoring.wide_leaves(result)
    assert list(wide.columns) == [leaf.id for leaf in scheme.leaves]
    assert wide.loc["B", "institution"] == 88 and np.isnan(wide.loc["A", "institution"])


def test_rounding_is_si_she_wu_ru_on_the_decimal_value():
    """Does round(x, 2) round half up on the value the office typed, not on its binary float?"""
    from scoring.rounding import round_half_up

    # 4 x 54.375 / 100 = 2.175 exactly; the float is 2.17499999... and numpy's round gives 2.17.
    assert round_half_up(4 * 54.375 / 100) == 2.18
    # 4 x 49.125 / 100 = 1.965: half up gives 1.97 (half-even would give 1.96).
    assert round_half_up(4 * 49.125 / 100) == 1.97
    assert round_half_up(60.374999999999986) == 60.38  # float noise of an exact 60.375
    assert round_half_up(60.3749) == 60.37


def test_a_share_is_written_as_a_percentage_rounded_half_up():
    """Is a share written 四舍五入 as a percentage (0.625 -> 63%), a setting as set (0.125 -> 12.5%)?"""
    from scoring.rounding import format_percent, format_setting_percent

    assert format_percent(0.625, 0) == "63%" and format_percent(0.0625) == "6.3%"
    assert format_setting_percent(0.125) == "12.5%" and format_setting_percent(0.15) == "15%"
    assert format_percent(0.125, 2, trim=True) == "12.5%" and format_percent(0.2, 2, trim=True) == "20%"
    assert format_percent(None, 0, empty="—") == "—" and format_percent(float("nan"), 0) == ""
