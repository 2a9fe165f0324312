"""The database itself carries the rules: these tests go around the services on purpose."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from assessment.extensions import db
from assessment.models import (
    Answer,
    Assignment,
    AuditEntry,
    Channel,
    CodeSystem,
    InstitutionScore,
    Period,
    PeriodState,
    PeriodStateError,
    Problem,
    ProblemSource,
    PublicRating,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Severity,
    Unit,
    UnitKind,
)
from tests.api.helpers import stored_instrument


@pytest.fixture
def base(ctx):
    period = Period(name="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), as_of=date(2026, 12, 31))
    unit = Unit(code="U001", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门")
    db.session.add_all([period, unit])
    db.session.commit()
    return period, unit


def rating(period, unit, event_id="e1", **kw):
    values = dict(
        period_id=period.id,
        unit_id=unit.id,
        origin="d1",
        event_id=event_id,
        level=5,
        raw_code=5,
        code_system=CodeSystem.STANDARD,
        channel=Channel.WINDOW,
        rated_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        content_hash="x" * 64,
    )
    values.update(kw)
    return PublicRating(**values)


def test_second_rating_with_same_event_id_is_refused(base):
    """Does the database itself refuse a second rating with the same origin and event id?"""
    period, unit = base
    db.session.add(rating(period, unit))
    db.session.commit()
    db.session.add(rating(period, unit))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating)) == 1


def test_same_event_id_from_another_device_is_a_different_rating(base):
    """Is the event id unique per device, not across devices?"""
    period, unit = base
    db.session.add_all([rating(period, unit, origin="d1"), rating(period, unit, origin="d2")])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicRating)) == 2


def test_one_rating_per_case_and_stage(base):
    """Can a case (办件编号) be rated twice at the same stage?"""
    period, unit = base
    db.session.add(rating(period, unit, event_id="a", case_no="BJ-1"))
    db.session.commit()
    db.session.add(rating(period, unit, event_id="b", case_no="BJ-1"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(rating(period, unit, event_id="c", case_no="BJ-1", stage="visit"))
    db.session.commit()


@pytest.mark.parametrize("level", [0, 6])
def test_level_outside_1_to_5_is_refused(base, level):
    """Does the database refuse a rating level outside 1-5?"""
    period, unit = base
    db.session.add(rating(period, unit, level=level))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_institution_score_range_and_uniqueness(base):
    """Does the database refuse an appraisal score outside 0-100 or a second one per unit?"""
    period, unit = base
    db.session.add(InstitutionScore(period_id=period.id, unit_id=unit.id, score=101))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(InstitutionScore(period_id=period.id, unit_id=unit.id, score=88))
    db.session.commit()
    db.session.add(InstitutionScore(period_id=period.id, unit_id=unit.id, score=90))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_problem_deadline_cannot_precede_finding(base):
    """Does the database refuse a problem whose deadline is before it was found?"""
    period, unit = base
    db.session.add(
        Problem(
            period_id=period.id,
            unit_id=unit.id,
            title="窗口推诿",
            source=ProblemSource.INFORMANT,
            severity=Severity.GENERAL,
            found_on=date(2026, 5, 1),
            deadline=date(2026, 4, 1),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _assignment(period, unit):
    rater = Rater(code="G0001", name="张伟", group=RaterGroup.GRASSROOTS)
    db.session.add(rater)
    instrument = stored_instrument([])
    assignment = Assignment(period_id=period.id, rater_id=rater.id, unit_id=unit.id, instrument_id=instrument.id)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def test_one_response_per_assignment_and_one_submission_per_version(base):
    """Do two submissions racing for the same version, or a second response, fail in the database?"""
    period, unit = base
    assignment = _assignment(period, unit)
    response = Response(assignment_id=assignment.id)
    db.session.add(response)
    db.session.commit()
    db.session.add(Response(assignment_id=assignment.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(ResponseVersion(response_id=response.id, version=1, source=ResponseSource.WEB))
    db.session.commit()
    db.session.add(ResponseVersion(response_id=response.id, version=1, source=ResponseSource.WEB))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_answer_value_range(base):
    """Does the database refuse an answer value outside 0-100?"""
    period, unit = base
    assignment = _assignment(period, unit)
    response = Response(assignment_id=assignment.id)
    db.session.add(response)
    db.session.flush()
    version = ResponseVersion(response_id=response.id, version=1, source=ResponseSource.WEB)
    db.session.add(version)
    db.session.flush()
    db.session.add(Answer(version_id=version.id, question="g01", value=None))
    db.session.commit()
    db.session.add(Answer(version_id=version.id, question="g02", value=-1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_audit_log_is_append_only(ctx):
    """Does the database refuse to change or delete an audit entry?"""
    db.session.add(AuditEntry(actor="test", action="x"))
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("UPDATE audit_log SET actor = 'someone else'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("DELETE FROM audit_log"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalars(sa.select(AuditEntry.actor)).all() == ["test"]


def test_period_refuses_wrong_transitions(base):
    """Does a period refuse moves its workflow does not allow?"""
    period, _ = base
    with pytest.raises(PeriodStateError):
        period.move_to(PeriodState.PUBLISHED)
    period.move_to(PeriodState.OPEN)
    period.move_to(PeriodState.CLOSED)
    period.move_to(PeriodState.PUBLISHED)
    with pytest.raises(PeriodStateError):
        period.move_to(PeriodState.OPEN)


def test_timestamps_come_back_in_utc(base):
    """Do stored timestamps come back timezone-aware in UTC on both engines?"""
    period, unit = base
    db.session.add(rating(period, unit))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(sa.select(PublicRating)).one()
    assert stored.rated_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert stored.rated_at.tzinfo is not None
