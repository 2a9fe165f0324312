"""The input contract: columns, references, values."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import scoring
from scoring import InputError


def messages(make_inputs, **kwargs) -> list[str]:
    with pytest.raises(InputError) as info:
        make_inputs(**kwargs)
    return info.value.messages


def test_missing_columns_are_named():
    """Does a frame without a contract column fail with its name?"""
    units = scoring.empty_frame("units").drop(columns=["category"])
    with pytest.raises(InputError) as info:
        scoring.Inputs(units=units, as_of=dt.date(2026, 12, 31), bonuses=pd.DataFrame({"unit": []}))
    assert info.value.messages == ["units: missing columns category", "bonuses: missing columns points"]


def test_empty_frames_and_a_unit_without_data_score_without_error(make_inputs, scheme):
    """Do empty frames work and does a unit with no data still get a row in every result frame?"""
    result = scoring.compute(make_inputs(units=["A", "B"]), scheme)
    assert list(result.units["unit"]) == ["A", "B"]
    assert len(result.leaves) == 2 * 14 and len(result.public) == 2 and len(result.strengths) == 2
    assert result.units["composite"].isna().all() and result.units["rank"].isna().all()
    assert result.units["coverage"].tolist() == [0.0, 0.0] and result.units["low_coverage"].all()


def test_references_and_values_are_checked(make_inputs, answer_rows):
    """Are unknown units, wrong groups, out-of-range answers and unknown questions all reported?"""
    answers = answer_rows("leader", "A", {"r1": {"l1": 6, "l2": 3}})
    answers += answer_rows("leader", "Z", {"r1": {"l1": 3}})
    answers += answer_rows("expert", "A", {"e": {"e1": 101}}) + answer_rows("peer", "A", {"p": {"p9": 3}})
    answers.append(
        {"rater": "x", "group": "leader", "instrument": "deputy", "unit": "A", "question": "d1", "answer": 3}
    )
    ratings = [{"unit": "Q", "level": 7, "is_default": False, "n": 1}]
    found = messages(make_inputs, answers=answers, ratings=ratings, checkpoints=[{"unit": "A", "status": "done"}])
    assert "answers: 1 row refer to unknown units (e.g. 'Z')" in found
    assert "answers: 1 row from a rater group that does not answer the instrument (e.g. 'deputy/leader')" in found
    assert "answers: 1 row with a likert5 answer outside 1-5 (e.g. '6.0')" in found
    assert "answers: 1 row with a score100 answer outside 0-100 (e.g. '101.0')" in found
    assert "answers: 1 row refer to questions not in questions (e.g. 'peer/p9')" in found
    assert "ratings: 1 row refer to unknown units (e.g. 'Q')" in found
    assert "ratings: 1 row with a level outside 1-5 (e.g. '7.0')" in found
    assert "checkpoints: 1 row with an unknown status (e.g. 'done')" in found


def test_an_answer_given_twice_is_refused(make_inputs, answer_rows):
    """Is one question answered twice in one response refused (never count an answer twice)?"""
    answers = answer_rows("leader", "A", {"r1": {"l1": 5}}) * 2
    assert messages(make_inputs, answers=answers) == [
        "answers: 2 rows answer the same question twice in one response (e.g. 'r1/leader/A/l1')"
    ]


def test_unit_codes_must_be_unique_and_institution_scores_single(make_inputs):
    """Are a duplicate unit code and a second institution score refused?"""
    found = messages(
        make_inputs, units=["A", "A"], institution=[{"unit": "A", "score": 90}, {"unit": "A", "score": 80}]
    )
    assert found == [
        "units: 2 rows with a duplicate code (e.g. 'A')",
        "institution: 2 rows with a second score for the same unit (e.g. 'A')",
    ]


def test_as_of_accepts_timestamps(make_inputs):
    """Is a pandas Timestamp as_of normalised to a date?"""
    assert make_inputs(as_of=pd.Timestamp("2026-06-30 13:00")).as_of == dt.date(2026, 6, 30)


def test_question_weight_column_is_optional(make_inputs, answer_rows, scheme, leaf_of, base_questions):
    """Without a weight column, do all questions weigh 1?"""
    answers = answer_rows("leader", "A", {"r1": {"l1": 5, "l2": 1}})
    unweighted = base_questions.drop(columns="weight")
    result = scoring.compute(make_inputs(answers=answers, questions=unweighted), scheme)
    assert leaf_of(result, "A", "leader")["value"] == 50  # (100 + 0) / 2
    assert np.isnan(leaf_of(result, "A", "peer")["value"])
