"""Check points, institution scores, deductions, bonus and approval linkage."""

import datetime as dt

import numpy as np
import pytest

import scoring

AS_OF = dt.date(2026, 12, 31)


def checkpoints(unit, **counts):
    return [{"unit": unit, "status": s} for s, k in counts.items() for _ in range(k)]


def test_checkpoint_formula_leaves_out_waived(make_inputs, scheme, leaf_of):
    """Is checkpoints = 100 (on_time + 0.5 late) / (on_time + late + not_done), waived left out?"""
    rows = checkpoints("A", on_time=3, late=2, not_done=1, waived=4) + checkpoints("B", waived=2)
    result = scoring.compute(make_inputs(units=["A", "B"], checkpoints=rows), scheme)
    # 100 x (3 + 0.5 x 2) / (3 + 2 + 1) = 400 / 6 = 66.67
    a = leaf_of(result, "A", "checkpoints")
    assert a["value"] == pytest.approx(400 / 6) and a["n"] == 6
    b = leaf_of(result, "B", "checkpoints")  # only waived: denominator 0, no value
    assert np.isnan(b["value"]) and b["n"] == 0


def test_institution_score_is_taken_as_is(make_inputs, scheme, leaf_of):
    """Is the imported institution score the leaf, and missing when the unit has none?"""
    result = scoring.compute(make_inputs(units=["A", "B"], institution=[{"unit": "A", "score": 91.5}]), scheme)
    a = leaf_of(result, "A", "institution")
    assert a["value"] == 91.5 and a["n"] == 1
    assert np.isnan(leaf_of(result, "B", "institution")["value"])


def problem(unit, severity, deadline, closed_on=None):
    return {"unit": unit, "severity": severity, "deadline": deadline, "closed_on": closed_on}


def test_overdue_rule(make_inputs, scheme, leaf_of, unit_of):
    """Is a problem overdue exactly when open past its deadline on as_of or closed after its deadline?"""
    rows = [
        problem("A", "general", "2026-12-30"),  # open, deadline < as_of: overdue 0.5
        problem("A", "serious", "2026-12-31"),  # open, deadline = as_of: not overdue
        problem("A", "grave", "2027-01-15"),  # open, deadline after as_of: not overdue
        problem("A", "serious", "2026-06-01", "2026-06-02"),  # closed a day late: overdue 1
        problem("A", "grave", "2026-06-01", "2026-06-01"),  # closed on the deadline: not overdue
    ]
    result = scoring.compute(make_inputs(checkpoints=checkpoints("A", on_time=1), problems=rows), scheme)
    # problems = 0.5 + 1 + 2 + 1 + 2 = 6.5; overdue = 0.5 + 1 = 1.5; deduction = 8
    assert leaf_of(result, "A", "problems")["value"] == 6.5 and leaf_of(result, "A", "problems")["n"] == 5
    assert leaf_of(result, "A", "overdue")["value"] == 1.5 and leaf_of(result, "A", "overdue")["n"] == 2
    a = unit_of(result, "A")
    assert (a["problems_points"], a["overdue_points"], a["deduction"]) == (6.5, 1.5, 8)
    assert a["composite"] == 92  # 100 - 8


def test_deduction_and_bonus_caps(make_inputs, scheme, unit_of):
    """Are deductions capped at 10 and bonus at 3?"""
    rows = [problem("A", "grave", "2026-01-01") for _ in range(4)]  # 8 + 8 overdue = 16 -> 10
    bonuses = [{"unit": u, "points": p} for u, p in (("A", 1), ("B", 2), ("B", 2))]  # B: 4 -> 3
    result = scoring.compute(
        make_inputs(
            units=["A", "B"],
            problems=rows,
            bonuses=bonuses,
            institution=[{"unit": "A", "score": 70}, {"unit": "B", "score": 70}],
        ),
        scheme,
    )
    a, b = unit_of(result, "A"), unit_of(result, "B")
    assert (a["deduction"], a["bonus"], a["composite"]) == (10, 1, 61)  # 70 - 10 + 1
    assert (b["deduction"], b["bonus"], b["composite"]) == (0, 3, 73)


def test_composite_is_clipped_to_0_100(make_inputs, scheme, unit_of):
    """Is the composite clipped to 0-100?"""
    result = scoring.compute(
        make_inputs(
            units=["A", "B"],
            institution=[{"unit": "A", "score": 5}, {"unit": "B", "score": 99}],
            problems=[problem("A", "grave", "2026-01-01") for _ in range(3)],
            bonuses=[{"unit": "B", "points": 3}],
        ),
        scheme,
    )
    assert unit_of(result, "A")["composite"] == 0  # 5 - 10
    assert unit_of(result, "B")["composite"] == 100  # 99 + 3
    assert unit_of(result, "A")["base"] == 5


def test_approval_suspension(make_inputs, scheme, unit_of):
    """Are approvals suspended for a problem open past its deadline on as_of, also when closed after as_of?"""
    rows = [
        problem("A", "general", "2026-11-01"),  # open past deadline
        problem("B", "general", "2026-11-01", "2027-01-10"),  # closed only after as_of: open on as_of
        problem("C", "general", "2026-11-01", "2026-12-01"),  # closed late but before as_of
        problem("D", "general", "2027-03-01"),  # open, not yet due
    ]
    result = scoring.compute(make_inputs(units=["A", "B", "C", "D", "E"], problems=rows), scheme)
    suspended = {u: unit_of(result, u)["approvals_suspended"] for u in "ABCDE"}
    assert suspended == {"A": True, "B": True, "C": False, "D": False, "E": False}
    assert unit_of(result, "C")["overdue_points"] == 0.5  # closed after its deadline: still overdue
