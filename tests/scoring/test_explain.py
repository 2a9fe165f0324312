"""Contributions and strongest / weakest leaves."""

import numpy as np
import pytest

import scoring


def test_contribution_formula(make_inputs, only_leaves, leaf_of):
    """Is contribution = w / Σ_A w x (S - category mean of S over units with a value)?"""
    checkpoints = [{"unit": "A", "status": "on_time"}] * 2 + [
        {"unit": "B", "status": "on_time"},
        {"unit": "B", "status": "not_done"},
    ]
    scores = [{"unit": u, "score": s} for u, s in (("A", 60), ("B", 80), ("C", 100))]
    result = scoring.compute(
        make_inputs(units=["A", "B", "C"], checkpoints=checkpoints, institution=scores),
        only_leaves({"checkpoints": 50, "institution": 50}),
    )
    # checkpoints A 100, B 50 (C none): mean 75; institution 60, 80, 100: mean 80
    assert leaf_of(result, "A", "checkpoints")["contribution"] == pytest.approx(0.5 * (100 - 75))  # 12.5
    assert leaf_of(result, "A", "institution")["contribution"] == pytest.approx(0.5 * (60 - 80))  # -10
    # C has only institution: its weight is all of Σ_A w -> 1 x (100 - 80) = 20
    assert leaf_of(result, "C", "institution")["contribution"] == pytest.approx(20)
    assert np.isnan(leaf_of(result, "C", "checkpoints")["contribution"])
    assert np.isnan(leaf_of(result, "A", "problems")["contribution"])  # deductions have no weight


def test_strongest_and_weakest_by_rank_in_category(make_inputs, answer_rows, only_leaves):
    """Are leaves ordered by standing in the category, ties by larger contribution?"""
    scheme = only_leaves({"checkpoints": 25, "institution": 25, "leader": 25, "expert": 25})
    rows = answer_rows("leader", "A", {"l": {"l1": 5}}) + answer_rows("leader", "B", {"l": {"l1": 1}})
    rows += answer_rows("expert", "A", {f"e{i}": {"e1": 50} for i in range(3)})
    rows += answer_rows("expert", "B", {f"e{i}": {"e1": 90} for i in range(3)})
    checkpoints = [{"unit": "A", "status": "on_time"}, {"unit": "B", "status": "late"}]
    scores = [{"unit": "A", "score": 90}, {"unit": "B", "score": 80}]
    result = scoring.compute(
        make_inputs(units=["A", "B"], answers=rows, checkpoints=checkpoints, institution=scores), scheme
    )
    a = result.strengths.set_index("unit").loc["A"]
    # A is first of 2 on checkpoints (100 vs 50), institution (90 vs 80), leader (100 vs 0): standing 0.25;
    # contributions 0.25 x 25 = 6.25, 0.25 x 5 = 1.25, 0.25 x 50 = 12.5; expert last (50 vs 90): 0.75
    assert a["strongest"] == ["leader", "checkpoints", "institution"]
    assert a["weakest"] == ["expert", "institution", "checkpoints"]
    assert result.strengths.set_index("unit").loc["B", "strongest"][0] == "expert"


def test_unit_without_values_has_empty_lists(make_inputs, scheme):
    """Does a unit without any leaf value get empty strongest / weakest lists?"""
    result = scoring.compute(make_inputs(), scheme)
    assert result.strengths.iloc[0]["strongest"] == [] and result.strengths.iloc[0]["weakest"] == []
