"""Data quality: response rates, straight-lining, Krippendorff's alpha."""

import numpy as np
import pytest

import scoring
from scoring.quality import krippendorff_alpha_ordinal


def test_response_rates_by_instrument_town_and_group(make_inputs, scheme):
    """Are assigned, submitted and rate counted per instrument, town and group (no town kept apart)?"""
    assignments = [
        {
            "rater": "g1",
            "group": "grassroots",
            "town": "T1",
            "instrument": "grassroots",
            "unit": "A",
            "submitted": True,
        },
        {
            "rater": "g1",
            "group": "grassroots",
            "town": "T1",
            "instrument": "grassroots",
            "unit": "B",
            "submitted": False,
        },
        {
            "rater": "g2",
            "group": "grassroots",
            "town": "T1",
            "instrument": "grassroots",
            "unit": "A",
            "submitted": True,
        },
        {"rater": "x1", "group": "expert", "town": None, "instrument": "expert", "unit": "A", "submitted": False},
    ]
    result = scoring.compute(make_inputs(units=["A", "B"], assignments=assignments), scheme)
    rates = result.quality["response_rates"]
    assert list(rates.columns) == ["instrument", "town", "group", "assigned", "submitted", "rate"]
    rows = {(r.instrument, r.town): (r.assigned, r.submitted, r.rate) for r in rates.itertuples()}
    assert rows == {("expert", None): (1, 0, 0.0), ("grassroots", "T1"): (3, 2, pytest.approx(2 / 3))}


def test_no_assignments_give_an_empty_frame(make_inputs, scheme):
    """Without assignments, is response_rates empty with its columns?"""
    rates = scoring.compute(make_inputs(), scheme).quality["response_rates"]
    assert rates.empty and "rate" in rates.columns


def test_straight_lining_needs_eight_equal_answers(make_inputs, answer_rows, scheme):
    """Is a rater listed only with at least 8 answers, all equal, across targets (don't know ignored)?"""
    units = [f"U{i}" for i in range(8)]
    rows = []
    for i, u in enumerate(units):
        rows += answer_rows("leader", u, {"same8": {"l1": 4}})
        rows += answer_rows("leader", u, {"varied": {"l1": 4 if i else 5}})
        rows += answer_rows("leader", u, {"dontknow": {"l1": 3, "l2": np.nan}})
        if i < 7:
            rows += answer_rows("leader", u, {"same7": {"l1": 2}})
    result = scoring.compute(make_inputs(units=units, answers=rows), scheme)
    found = result.quality["straight_liners"]
    assert sorted(found["rater"]) == ["dontknow", "same8"]
    same = found.set_index("rater").loc["same8"]
    assert (same["instrument"], same["n_answers"], same["value"]) == ("leader", 8, 4.0)


def test_alpha_of_krippendorffs_published_example():
    """Does the ordinal alpha of Krippendorff's reliability-data example equal the published 0.815?"""
    n = np.nan
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    items = [i for row in coders for i, v in enumerate(row) if v == v]
    values = [v for row in coders for v in row if v == v]
    assert krippendorff_alpha_ordinal(np.array(items), np.array(values)) == pytest.approx(0.815, abs=5e-4)


def test_alpha_per_instrument(make_inputs, answer_rows, scheme):
    """Is alpha 1 for raters in full agreement, and NaN when no item has two values?"""
    rows = []
    for u, a in (("A", 5), ("B", 3), ("C", 1)):
        rows += answer_rows("leader", u, {"r1": {"l1": a}, "r2": {"l1": a}})
    rows += answer_rows("deputy", "A", {"d1": {"d1": 4}})
    alpha = scoring.compute(make_inputs(units=["A", "B", "C"], answers=rows), scheme).quality["alpha"]
    alpha = alpha.set_index("instrument")["alpha"]
    assert alpha["leader"] == 1.0 and np.isnan(alpha["deputy"])
