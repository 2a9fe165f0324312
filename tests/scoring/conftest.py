"""Factories for the scoring tests: small hand-made cities, no app, no database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

import scoring

AS_OF = dt.date(2026, 12, 31)

#: Two questions per instrument; grassroots has one per theme plus a second territorial one.
QUESTIONS = pd.DataFrame(
    [
        ("grassroots", "gt1", "territorial", "likert5", 1.0),
        ("grassroots", "gt2", "territorial", "likert5", 1.0),
        ("grassroots", "gr1", "response", "likert5", 1.0),
        ("grassroots", "gb1", "burden", "likert5", 1.0),
        ("grassroots", "gs1", "support", "likert5", 1.0),
        ("leader", "l1", None, "likert5", 1.0),
        ("leader", "l2", None, "likert5", 3.0),
        ("peer", "p1", None, "likert5", 1.0),
        ("self", "s1", None, "likert5", 1.0),
        ("deputy", "d1", None, "likert5", 1.0),
        ("expert", "e1", None, "score100", 1.0),
    ],
    columns=["instrument", "question", "theme", "type", "weight"],
)
GROUP = {
    "grassroots": "grassroots",
    "leader": "leader",
    "peer": "department",
    "self": "department",
    "deputy": "deputy",
    "expert": "expert",
}


@pytest.fixture
def make_scheme():
    """Build a scheme from the default YAML with top-level settings replaced (mappings are merged)."""

    def make(**overrides) -> scoring.Scheme:
        data = yaml.safe_load(scoring.default_scheme_text())
        data["sensitivity"]["draws"] = 20
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return scoring.load_scheme(yaml.safe_dump(data, allow_unicode=True))

    return make


@pytest.fixture
def scheme(make_scheme):
    """The default scheme with 20 sensitivity draws."""
    return make_scheme()


def leaves_scheme(make_scheme, weights: dict[str, float], **overrides) -> scoring.Scheme:
    """A scheme with only the named default leaves (and weights), plus both deduction leaves."""
    data = yaml.safe_load(scoring.default_scheme_text())
    chosen = [dict(leaf, weight=weights[leaf["id"]]) for leaf in data["leaves"] if leaf["id"] in weights]
    chosen += [leaf for leaf in data["leaves"] if leaf["source"] in ("problems", "overdue")]
    return make_scheme(leaves=chosen, **overrides)


@pytest.fixture
def only_leaves(make_scheme):
    """``only_leaves({"institution": 100}, **settings)``: a scheme with just these weighted leaves."""
    return lambda weights, **overrides: leaves_scheme(make_scheme, weights, **overrides)


@pytest.fixture
def make_inputs():
    """``make_inputs(units, answers=[...], ratings=[...], ...)``: Inputs from lists of dicts or frames.

    ``units``: codes (category ``dept``) or dicts with any unit columns."""

    def make(units=("A",), as_of=AS_OF, questions=None, **frames) -> scoring.Inputs:
        rows = [u if isinstance(u, dict) else {"code": u} for u in units]
        unit_frame = pd.DataFrame(
            [
                {
                    "name": f"unit {r['code']}",
                    "kind": "government",
                    "category": "dept",
                    "establishment": np.nan,
                    "actual_staff": np.nan,
                    **r,
                }
                for r in rows
            ],
            columns=list(scoring.COLUMNS["units"]),
        )
        built = {}
        for name, value in frames.items():
            if value is None or isinstance(value, pd.DataFrame):
                built[name] = value
            else:
                frame = pd.DataFrame(list(value))
                built[name] = frame if len(frame.columns) else scoring.empty_frame(name)
        return scoring.Inputs(
            units=unit_frame, as_of=as_of, questions=QUESTIONS if questions is None else questions, **built
        )

    return make


@pytest.fixture
def answer_rows():
    """``answer_rows(instrument, unit, {rater: {question: answer}}, version=None)``: answer dicts."""

    def make(instrument, unit, by_rater, version=None):
        rows = []
        for rater, answers in by_rater.items():
            for question, answer in answers.items():
                row = {
                    "rater": rater,
                    "group": GROUP[instrument],
                    "instrument": instrument,
                    "unit": unit,
                    "question": question,
                    "answer": answer,
                }
                if version is not None:
                    row["version"] = version
                rows.append(row)
        return rows

    return make


def leaf(result: scoring.Result, unit: str, leaf_id: str) -> pd.Series:
    """The leaves row of one unit and leaf."""
    rows = result.leaves[(result.leaves["unit"] == unit) & (result.leaves["leaf"] == leaf_id)]
    assert len(rows) == 1
    return rows.iloc[0]


def unit_row(result: scoring.Result, unit: str) -> pd.Series:
    """The units row of one unit."""
    rows = result.units[result.units["unit"] == unit]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture
def leaf_of():
    return leaf


@pytest.fixture
def unit_of():
    return unit_row


@pytest.fixture
def base_questions() -> pd.DataFrame:
    """The questions every factory-made Inputs uses (a copy)."""
    return QUESTIONS.copy()
