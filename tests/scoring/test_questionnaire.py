"""Questionnaire leaves: answer points, per-rater means, latest version, min_n, trimming."""

import numpy as np

import scoring


def single(instrument, question, answers: list) -> dict:
    """One rater per answer: {"r0": {question: a0}, "r1": {question: a1}, ...}."""
    return {f"r{i}": {question: a} for i, a in enumerate(answers)}


def score(make_inputs, scheme, rows, unit="A", leaf="leader"):
    result = scoring.compute(make_inputs(answers=rows), scheme)
    row = result.leaves[(result.leaves["unit"] == unit) & (result.leaves["leaf"] == leaf)].iloc[0]
    return row


def test_likert_points_and_no_trimming_below_five(make_inputs, answer_rows, scheme):
    """With 4 raters, is the leaf the plain mean of (answer - 1) x 25?"""
    rows = answer_rows("leader", "A", single("leader", "l1", [5, 5, 4, 1]))
    row = score(make_inputs, scheme, rows)
    # points 100, 100, 75, 0 -> (100 + 100 + 75 + 0) / 4 = 68.75 (trimmed it would be 87.5)
    assert row["value"] == 68.75 and row["n"] == 4


def test_one_highest_and_one_lowest_dropped_from_five(make_inputs, answer_rows, scheme):
    """With 5 raters, is exactly one highest and one lowest rater score dropped?"""
    rows = answer_rows("leader", "A", single("leader", "l1", [5, 5, 4, 2, 1]))
    row = score(make_inputs, scheme, rows)
    # points 100, 100, 75, 25, 0; drop one 100 and the 0 -> (100 + 75 + 25) / 3 = 66.67 (plain mean 60)
    assert np.isclose(row["value"], 200 / 3) and row["n"] == 5


def test_all_disagree_scores_25_not_a_pass(make_inputs, answer_rows, scheme):
    """Does a leaf of all 2s (不满意) score 25?"""
    row = score(make_inputs, scheme, answer_rows("leader", "A", single("leader", "l1", [2, 2, 2])))
    assert row["value"] == 25


def test_weighted_mean_over_answered_questions(make_inputs, answer_rows, scheme):
    """Is a rater's leaf score the question-weighted mean (l2 weighs 3)?"""
    row = score(make_inputs, scheme, answer_rows("leader", "A", {"r1": {"l1": 5, "l2": 1}}))
    # (1 x 100 + 3 x 0) / (1 + 3) = 25
    assert row["value"] == 25


def test_dont_know_is_left_out(make_inputs, answer_rows, scheme):
    """Is a don't-know answer left out of the rater's mean rather than counted as 0?"""
    rows = answer_rows("leader", "A", {"r1": {"l1": np.nan, "l2": 4}, "r2": {"l1": 5, "l2": np.nan}})
    # r1: only l2 answered -> 75; r2: only l1 -> 100; mean (75 + 100) / 2 = 87.5
    assert score(make_inputs, scheme, rows)["value"] == 87.5


def test_rater_answering_only_dont_know_does_not_count(make_inputs, answer_rows, scheme):
    """Does an all-don't-know rater drop out of n, so 5 grassroots raters become 4 and fall below min_n?"""
    raters = {f"g{i}": {"gr1": 4} for i in range(4)}
    raters["g4"] = {"gr1": np.nan}
    row = score(make_inputs, scheme, answer_rows("grassroots", "A", raters), leaf="grassroots_response")
    assert row["n"] == 4 and np.isnan(row["value"]) and row["suppressed"]


def test_grassroots_theme_leaves_use_only_their_questions(make_inputs, answer_rows, scheme, leaf_of):
    """Does each grassroots theme leaf read only its theme's questions?"""
    raters = {f"g{i}": {"gt1": 5, "gt2": 4, "gr1": 3, "gb1": 2, "gs1": 1} for i in range(5)}
    result = scoring.compute(make_inputs(answers=answer_rows("grassroots", "A", raters)), scheme)
    # territorial: (100 + 75) / 2 = 87.5 for every rater; trimming identical scores changes nothing
    assert leaf_of(result, "A", "grassroots_territorial")["value"] == 87.5
    assert leaf_of(result, "A", "grassroots_response")["value"] == 50
    assert leaf_of(result, "A", "grassroots_burden")["value"] == 25
    assert leaf_of(result, "A", "grassroots_support")["value"] == 0


def test_min_n_per_instrument(make_inputs, answer_rows, scheme, leaf_of):
    """Does each instrument's min_n apply: grassroots 5, peer 3, deputy 3, expert 3, leader 1, self 1?"""
    rows = []
    rows += answer_rows("grassroots", "A", {f"g{i}": {"gr1": 4} for i in range(4)})  # 4 < 5
    rows += answer_rows("grassroots", "B", {f"g{i}": {"gr1": 4} for i in range(5)})  # 5
    rows += answer_rows("peer", "A", {f"d{i}": {"p1": 4} for i in range(2)})  # 2 < 3
    rows += answer_rows("peer", "B", {f"d{i}": {"p1": 4} for i in range(3)})
    rows += answer_rows("deputy", "A", {f"p{i}": {"d1": 4} for i in range(2)})
    rows += answer_rows("deputy", "B", {f"p{i}": {"d1": 4} for i in range(3)})
    rows += answer_rows("expert", "A", {f"e{i}": {"e1": 90} for i in range(2)})
    rows += answer_rows("expert", "B", {f"e{i}": {"e1": 90} for i in range(3)})
    rows += answer_rows("leader", "A", {"l0": {"l1": 4}})
    rows += answer_rows("self", "A", {"dA": {"s1": 4}})  # self by group department: min_n 1, unlike peer
    result = scoring.compute(make_inputs(units=["A", "B"], answers=rows), scheme)
    for leaf_id in ("grassroots_response", "peer", "deputy", "expert"):
        a, b = leaf_of(result, "A", leaf_id), leaf_of(result, "B", leaf_id)
        assert np.isnan(a["value"]) and a["suppressed"], leaf_id
        assert not np.isnan(b["value"]) and not b["suppressed"], leaf_id
    assert leaf_of(result, "A", "leader")["value"] == 75 and leaf_of(result, "A", "self")["value"] == 75
    assert leaf_of(result, "B", "expert")["value"] == 90  # score100 answers are points already
    # no raters at all: no value, and nothing to suppress
    b_leader = leaf_of(result, "B", "leader")
    assert np.isnan(b_leader["value"]) and not b_leader["suppressed"]


def test_only_the_latest_version_counts(make_inputs, answer_rows, scheme):
    """Does only the highest version of a rater's response count, even where it left a question out?"""
    rows = answer_rows("leader", "A", {"r1": {"l1": 5, "l2": 5}}, version=1)
    rows += answer_rows("leader", "A", {"r1": {"l1": 1}}, version=2)
    rows += answer_rows("leader", "A", {"r2": {"l1": 3}}, version=1)
    # r1 version 2 alone: l1 = 0 (l2 of version 1 is gone) -> 0; r2: 50; mean 25
    row = score(make_inputs, scheme, rows)
    assert row["value"] == 25 and row["n"] == 2


def test_leaf_n_is_the_number_of_counted_raters_not_answers(make_inputs, answer_rows, scheme):
    """Is n counted in raters (two answers of one rater count once)?"""
    row = score(make_inputs, scheme, answer_rows("leader", "A", {"r1": {"l1": 5, "l2": 4}}))
    assert row["n"] == 1
