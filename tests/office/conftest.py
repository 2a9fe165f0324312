"""A hand-made small city for the office's raters' pages: its progress figures are known by hand.

Towns T1, T2; units U01-U03 (all serving towns); raters G1, G2 (T1) and G3 (T2) grassroots, L1 leader, D1 a
department rater of U01, and G9 inactive; period 2026 open until 2026-12-31. The default rules give 15
assignments: grassroots 3 × 3, leader 3, peer 2 (U02, U03), self 1 (U01). Then:

    G1 submits all 3 · G2 submits U01, drafts U02, leaves U03 · G3 nothing · L1 submits all 3
    D1 submits peer U02, drafts peer U03, leaves self U01

so 8 submitted, 2 in progress, 5 not opened; reminders go to G2 (3, 1), G3 (3, 0) and D1 (3, 1).
"""

from datetime import date
from types import SimpleNamespace

import pytest

from assessment.extensions import db
from assessment.models import (
    Assignment,
    Instrument,
    Period,
    PeriodState,
    Rater,
    RaterGroup,
    Town,
    Unit,
    UnitKind,
)


def _assignment(rater, unit, key):
    return db.session.execute(
        db.select(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .where(Rater.code == rater, Unit.code == unit, Instrument.key == key)
    ).scalar_one()


def _all_answers(assignment, value="4"):
    from assessment.services.responses import definition

    defn = definition(assignment.instrument)
    out = {}
    for q in defn.questions:
        out[q.id] = value if defn.scales[q.type].labels else "80"
    return out


@pytest.fixture
def city(app):
    """The small city above, with the state of every assignment; returns names for the tests."""
    from assessment.services import responses
    from assessment.services.assignments import assign

    with app.app_context():
        t1, t2 = Town(code="T1", name="东城街道"), Town(code="T2", name="西湖镇")
        units = [
            Unit(code="U01", name="市民政局", kind=UnitKind.GOVERNMENT, category="政府部门"),
            Unit(code="U02", name="市自然资源局", kind=UnitKind.GOVERNMENT, category="政府部门"),
            Unit(code="U03", name="市档案馆", kind=UnitKind.INSTITUTION, category="事业单位"),
        ]
        db.session.add_all([t1, t2, *units])
        db.session.flush()
        db.session.add_all(
            [
                Rater(code="G1", name="张晓红", group=RaterGroup.GRASSROOTS, town_id=t1.id, phone="13800000001"),
                Rater(code="G2", name="李建国", group=RaterGroup.GRASSROOTS, town_id=t1.id, phone="13800000002"),
                Rater(code="G3", name="王海燕", group=RaterGroup.GRASSROOTS, town_id=t2.id, phone="13800000003"),
                Rater(code="G9", name="赵已调", group=RaterGroup.GRASSROOTS, town_id=t1.id, active=False),
                Rater(code="L1", name="陈市长", group=RaterGroup.LEADER),
                Rater(code="D1", name="周科长", group=RaterGroup.DEPARTMENT, unit_id=units[0].id, phone="0536-1234567"),
            ]
        )
        period = Period(
            name="2026",
            state=PeriodState.OPEN,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
        )
        db.session.add(period)
        db.session.flush()
        assign(period, "test")

        def submit(rater, unit, key):
            a = _assignment(rater, unit, key)
            responses.save_draft(a, _all_answers(a))
            responses.submit(a)

        def draft(rater, unit, key):
            a = _assignment(rater, unit, key)
            first = next(iter(_all_answers(a).items()))
            responses.save_draft(a, dict([first]))

        for unit in ("U01", "U02", "U03"):
            submit("G1", unit, "grassroots")
            submit("L1", unit, "leader")
        submit("G2", "U01", "grassroots")
        draft("G2", "U02", "grassroots")
        submit("D1", "U02", "peer")
        draft("D1", "U03", "peer")
        db.session.commit()
    return SimpleNamespace(period="2026")


@pytest.fixture
def login_as(client, make_user, auth):
    """Sign in with a fresh account of this role: login_as("operator")."""

    def _login(role):
        make_user(role, role=role)
        response = auth.login(role)
        assert response.status_code == 302
        return client

    return _login


@pytest.fixture
def assignment_id(app):
    """The id of one assignment of the small city: assignment_id("G1", "U01", "grassroots")."""

    def _get(rater, unit, key):
        with app.app_context():
            return _assignment(rater, unit, key).id

    return _get
