"""Does the answer-type registry parse raw answers the way imports and forms need?"""

import pytest

from surveys import ANSWER_TYPES, load_all, parse_answer


@pytest.mark.parametrize(
    ("type_name", "raw", "expected"),
    [
        ("likert5", "1", 1.0),
        ("likert5", " 5 ", 5.0),
        ("likert5", 4, 4.0),
        ("likert5", 4.0, 4.0),
        ("likert5", "3.0", 3.0),
        ("likert5", "na", None),
        ("likert5", "NA", None),
        ("likert5", "不了解", None),
        ("score100", "0", 0.0),
        ("score100", "100", 100.0),
        ("score100", "87.5", 87.5),
        ("score100", "na", None),
    ],
)
def test_good_answers(type_name, raw, expected):
    """Are valid answers parsed to floats and na to None (不了解)?"""
    assert parse_answer(type_name, raw) == expected


@pytest.mark.parametrize(
    ("type_name", "raw", "message"),
    [
        ("likert5", "7", "answer '7' out of range 1-5 for likert5"),
        ("likert5", "0", "answer '0' out of range 1-5 for likert5"),
        ("likert5", "3.5", "answer '3.5' is not a whole number for likert5"),
        ("likert5", "满意", "answer '满意' is not a number for likert5"),
        ("likert5", "", "answer is empty for likert5"),
        ("likert5", None, "answer is empty for likert5"),
        ("likert5", True, "answer 'True' is not a number for likert5"),
        ("score100", "101", "answer '101' out of range 0-100 for score100"),
        ("score100", "-1", "answer '-1' out of range 0-100 for score100"),
        ("score100", "nan", "answer 'nan' is not a number for score100"),
        ("score100", "inf", "answer 'inf' is not a number for score100"),
    ],
)
def test_bad_answers(type_name, raw, message):
    """Are bad answers refused with a message naming the answer, the range and the type, in Chinese too?"""
    with pytest.raises(ValueError) as info:
        parse_answer(type_name, raw)
    assert str(info.value).startswith(message)
    assert "答案" in str(info.value)


def test_unknown_answer_type():
    """Is an unknown answer type refused?"""
    with pytest.raises(ValueError, match="unknown answer type 'likert7'"):
        parse_answer("likert7", "3")


def test_points():
    """Do answers map to points as scoring.md says: likert5 (a − 1) × 25, score100 itself?"""
    likert, score = ANSWER_TYPES["likert5"], ANSWER_TYPES["score100"]
    assert [likert.points(a) for a in (1, 2, 3, 4, 5)] == [0, 25, 50, 75, 100]
    assert score.points(87.5) == 87.5


def test_instrument_parse_answer(minimal):
    """Does an instrument parse by question, refusing unknown questions and na where not allowed?"""
    from surveys import load_definition

    defs = load_all()
    assert defs["expert"].parse_answer("e02", "88") == 88.0
    with pytest.raises(ValueError, match="out of range 1-5 for likert5"):
        defs["expert"].parse_answer("e01", "88")
    with pytest.raises(ValueError, match="has no question 'e99'"):
        defs["expert"].parse_answer("e99", "3")
    minimal["allow_na"] = False
    with pytest.raises(ValueError, match="does not allow na"):
        load_definition(minimal).parse_answer("l01", "na")
