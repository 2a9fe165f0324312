"""The answers scoring reads (services/gather.py): each engine's fast read gives exactly the stored answers, in
response then question order, and anything it cannot read that way still reaches the engine's checks."""

import math

import pytest
import sqlalchemy as sa

import scoring
from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    Period,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Unit,
)
from assessment.services import gather
from assessment.services.gather import gather_inputs
from tests.api.helpers import stored_instrument


def _response(period, rater_code, unit, instrument, versions):
    """A rater's response to `unit` with one submitted version per {question: value} dict, in that order."""
    rater = db.session.scalar(sa.select(Rater).filter_by(code=rater_code))
    if rater is None:
        rater = Rater(code=rater_code, name=rater_code, group=RaterGroup.GRASSROOTS)
        db.session.add(rater)
        db.session.flush()
    assignment = Assignment(period_id=period.id, rater_id=rater.id, unit_id=unit.id, instrument_id=instrument.id)
    db.session.add(assignment)
    db.session.flush()
    response = Response(assignment_id=assignment.id, current_version=len(versions))
    db.session.add(response)
    db.session.flush()
    return response


def _submit(response, number, answers):
    version = ResponseVersion(response_id=response.id, version=number, source=ResponseSource.WEB)
    db.session.add(version)
    db.session.flush()
    db.session.add_all([Answer(version_id=version.id, question=q, value=v) for q, v in answers.items()])
    db.session.flush()


@pytest.mark.parametrize("odd", ["b\x1fx", "b|x"], ids=["row-by-row", "per-version-text"])
def test_answers_come_exactly_and_in_response_then_question_order(app, city, odd, monkeypatch):
    """Are odd question ids, 不了解 and non-whole values read exactly, a corrected response in its own place —
    by SQLite's per-version text and by its row-by-row fallback alike?"""
    fast = []
    real = gather._answers_sqlite
    monkeypatch.setattr(gather, "_answers_sqlite", lambda *args: fast.append(real(*args)) or fast[-1])
    with app.app_context():
        period = db.session.scalar(sa.select(Period).filter_by(name="P1"))
        units = {u.code: u for u in db.session.scalars(sa.select(Unit))}
        # `odd` with a unit separator inside: SQLite's per-version text cannot be split, so it reads row by row.
        qids = ["g2", odd, "g10", "a"]
        instrument = stored_instrument(qids)
        first = _response(period, "G1", units["U01"], instrument, [1, 2])
        second = _response(period, "G2", units["U01"], instrument, [1])
        _submit(first, 1, dict.fromkeys(qids, 1.0))
        _submit(second, 1, {"g2": 0.30000000000000004, odd: None, "g10": 1e-7, "a": 87.5})
        _submit(first, 2, {"g2": 100.0, odd: 0.0, "g10": 33.333333333333336, "a": None})  # a correction
        db.session.commit()

        answers = gather_inputs(period).answers
        got = list(zip(answers["rater"], answers["question"], answers["answer"], strict=True))
        order = sorted(qids)  # as the unique index sorts them: "a", odd, "g10", "g2"
        expected = [("G1", q, {"g2": 100.0, odd: 0.0, "g10": 33.333333333333336}.get(q)) for q in order] + [
            ("G2", q, {"g2": 0.30000000000000004, "g10": 1e-7, "a": 87.5}.get(q)) for q in order
        ]
        assert len(got) == len(expected)
        for (rater, question, value), (want_rater, want_question, want_value) in zip(got, expected, strict=True):
            assert (rater, question) == (want_rater, want_question)
            assert math.isnan(value) if want_value is None else value == want_value
        if db.engine.dialect.name == "sqlite":  # which SQLite read ran: the text, unless an id holds its separator
            assert [found is not None for found in fast] == [odd == "b|x"]


def test_an_answer_to_a_question_no_longer_listed_reaches_the_engine_check(app, city):
    """Does an answer to a question the instrument does not list stop scoring with that answer named?"""
    with app.app_context():
        period = db.session.scalar(sa.select(Period).filter_by(name="P1"))
        unit = db.session.scalar(sa.select(Unit).filter_by(code="U01"))
        instrument = stored_instrument(["g01", "g02"])
        response = _response(period, "G1", unit, instrument, [1])
        _submit(response, 1, {"g01": 4.0, "g99": 3.0})
        db.session.commit()

        with pytest.raises(scoring.InputError) as raised:
            gather_inputs(period)
        assert any("refer to questions not in questions" in m and "grassroots/g99" in m for m in raised.value.messages)
