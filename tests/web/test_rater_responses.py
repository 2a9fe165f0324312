"""Drafts, exactly-once submission, and the office's return, invalid mark and correction (services)."""

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    Assignment,
    AssignmentState,
    AuditEntry,
    Period,
    Response,
    ResponseSource,
    ResponseVersion,
)
from assessment.services import responses
from assessment.services.gather import gather_inputs
from tests.web.helpers import assignments_of

ALL_FOURS = {f"g{n:02d}": "4" for n in range(1, 17)}


@pytest.fixture
def grassroots(app, city, ctx):
    """G01's assignments (four units), in an app context."""
    return [db.session.get(Assignment, i) for i, *_ in assignments_of(app, "G01", "grassroots")]


def test_drafts_keep_partial_answers_and_merge(grassroots):
    """Are answers saved per question, merged with earlier ones, and 不了解 kept as None?"""
    a = grassroots[0]
    responses.save_draft(a, {"g01": "5"})
    responses.save_draft(a, {"g02": "na", "g03": 2})
    assert a.response.draft == {"g01": 5.0, "g02": None, "g03": 2.0}
    assert a.state is AssignmentState.IN_PROGRESS
    responses.save_draft(a, {"g01": ""})
    assert a.response.draft == {"g02": None, "g03": 2.0}


def test_a_bad_answer_names_the_question_and_saves_nothing(grassroots):
    """Is an out-of-range answer refused in Chinese, naming the question, with nothing stored?"""
    a = grassroots[0]
    with pytest.raises(responses.ResponseError) as caught:
        responses.save_draft(a, {"g01": "5", "g02": "7"})
    assert "第 2 题" in caught.value.message and "1-5" in caught.value.message
    with pytest.raises(responses.ResponseError) as caught:
        responses.save_draft(a, {"zz": "5"})
    assert "zz" in caught.value.message
    assert a.response is None


def test_submit_makes_exactly_one_version_with_every_question(grassroots):
    """Does submitting store one version with all 16 questions (unanswered: 不了解), and refuse again?"""
    a = grassroots[0]
    responses.save_draft(a, {"g01": "5", "g02": "3"})
    version = responses.submit(a)
    assert version.version == 1 and version.source is ResponseSource.WEB
    values = {x.question: x.value for x in version.answers}
    assert len(values) == 16 and values["g01"] == 5.0 and values["g16"] is None
    assert a.state is AssignmentState.SUBMITTED and a.response.draft is None
    with pytest.raises(responses.AlreadySubmitted):
        responses.submit(a)
    with pytest.raises(responses.AlreadySubmitted):
        responses.save_draft(a, {"g01": "1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResponseVersion)) == 1


def test_the_database_refuses_a_second_version_with_the_same_number(grassroots):
    """Does UNIQUE(response_id, version) stop a duplicate version whatever the code does?"""
    a = grassroots[0]
    responses.save_draft(a, {"g01": "5"})
    version = responses.submit(a)
    db.session.add(ResponseVersion(response_id=version.response_id, version=1, source=ResponseSource.WEB))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_return_to_rater_then_resubmit_makes_a_new_version(grassroots):
    """Does 退回 put the answers back as a draft with the reason, and resubmitting add version 2?"""
    a = grassroots[0]
    responses.save_draft(a, ALL_FOURS)
    responses.submit(a)
    with pytest.raises(responses.ResponseError) as caught:
        responses.return_to_rater(a, "office", "  ")
    assert "退回原因" in caught.value.message
    responses.return_to_rater(a, "office", "第3题疑似误填")
    assert a.state is AssignmentState.IN_PROGRESS
    assert a.response.return_reason == "第3题疑似误填" and a.response.returned_by == "office"
    assert a.response.draft["g03"] == 4.0
    responses.save_draft(a, {"g03": "2"})
    version = responses.submit(a)
    assert version.version == 2 and a.response.returned_at is None
    assert [v.version for v in a.response.versions] == [1, 2]
    actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert "response.return" in actions


def test_invalid_versions_are_left_out_of_scoring(app, city, grassroots):
    """Is the latest valid version the one scoring reads, and a response with none left out entirely?"""
    a, b = grassroots[0], grassroots[1]
    responses.save_draft(a, ALL_FOURS)
    responses.submit(a)
    responses.correct(a, {**ALL_FOURS, "g01": "1"}, "office", "纸质问卷更正")
    responses.save_draft(b, ALL_FOURS)
    first_b = responses.submit(b)
    period = db.session.get(Period, city.period_id)

    def g01(unit):
        frame = gather_inputs(period).answers
        rows = frame[(frame.unit == unit) & (frame.question == "g01")]
        return rows.answer.tolist()

    assert g01("U01") == [1.0]
    latest = a.response.versions[-1]
    responses.mark_invalid(latest, "office", "更正有误")
    assert g01("U01") == [4.0]  # back to the rater's own valid version
    responses.mark_invalid(first_b, "office", "重复作答")
    assert g01("U02") == []
    submitted = gather_inputs(period).assignments
    row = submitted[(submitted.rater == "G01") & (submitted.unit == "U02")]
    assert not bool(row.submitted.iloc[0])
    with pytest.raises(responses.ResponseError):
        responses.mark_invalid(first_b, "office", "again")
    responses.mark_valid(first_b, "office", "核实无误")
    assert g01("U02") == [4.0]
    assert first_b.invalid_at is None


def test_a_correction_is_a_new_version_with_who_and_why(grassroots):
    """Does a correction need every question and a reason, and record who and why as a new version?"""
    a = grassroots[0]
    with pytest.raises(responses.ResponseError) as caught:
        responses.correct(a, {"g01": "5"}, "office", "纸质问卷")
    assert "g02" in caught.value.message
    with pytest.raises(responses.ResponseError):
        responses.correct(a, ALL_FOURS, "office", "")
    version = responses.correct(a, ALL_FOURS, "office", "纸质问卷录入")
    assert version.version == 1 and version.source is ResponseSource.CORRECTION
    assert version.recorded_by == "office" and version.reason == "纸质问卷录入"
    assert a.state is AssignmentState.SUBMITTED
    assert db.session.execute(sa.select(Response)).scalar_one().current_version == 1


def test_straight_lining_is_recognised(grassroots):
    """Is the same answer set for every unit (three or more) recognised, and different ones not?"""
    same = {"g01": 5.0, "g02": 5.0}
    assert responses.straight_lined([same, same, same])
    assert not responses.straight_lined([same, same])
    assert not responses.straight_lined([same, same, {"g01": 4.0, "g02": 5.0}])
    assert not responses.straight_lined([{"g01": None}, {"g01": None}, {"g01": None}])
