"""Helpers of the raters' tests (also used by tests/e2e): a small hand-made city and its assignments."""

from datetime import date

from assessment.extensions import db
from assessment.models import Period, PeriodState, Rater, RaterGroup, Town, Unit, UnitKind

UNITS = [
    ("U01", "市教育局", True),
    ("U02", "市财政局", True),
    ("U03", "市民政局", True),
    ("U04", "市档案馆", False),  # does not serve towns
    ("U05", "市交通运输局", True),
]
RATERS = [
    ("G01", "张镇干", RaterGroup.GRASSROOTS, "T1", None),
    ("G02", "李街干", RaterGroup.GRASSROOTS, "T1", None),
    ("L01", "王领导", RaterGroup.LEADER, None, None),
    ("D01", "赵部门", RaterGroup.DEPARTMENT, None, "U01"),
    ("D02", "钱部门", RaterGroup.DEPARTMENT, None, "U02"),
    ("E01", "孙专家", RaterGroup.EXPERT, None, None),
    ("P01", "周代表", RaterGroup.DEPUTY, None, None),
]


def build_city(app, extra_grassroots=0) -> int:
    """Create the small city (plus extra grassroots raters), instruments and assignments; the period id."""
    from assessment.services.assignments import assign
    from assessment.services.instruments import sync_instruments

    with app.app_context():
        sync_instruments(actor="test")
        period = Period(
            name="2026",
            state=PeriodState.OPEN,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
        )
        town = Town(code="T1", name="龙都街道")
        db.session.add_all([period, town])
        units = {
            code: Unit(code=code, name=name, kind=UnitKind.GOVERNMENT, category="政府部门", serves_towns=serves)
            for code, name, serves in UNITS
        }
        db.session.add_all(units.values())
        db.session.flush()
        raters = list(RATERS) + [
            (f"G{n:02d}", f"镇干部{n}", RaterGroup.GRASSROOTS, "T1", None) for n in range(3, 3 + extra_grassroots)
        ]
        for code, name, group, town_code, unit_code in raters:
            db.session.add(
                Rater(
                    code=code,
                    name=name,
                    group=group,
                    town_id=town.id if town_code else None,
                    unit_id=units[unit_code].id if unit_code else None,
                )
            )
        db.session.flush()
        assign(period, actor="test")
        db.session.commit()
        return period.id


def issue(app, period_id, rater_code):
    """A fresh (token, code) for a rater, committed."""
    from assessment.services.access import issue as issue_keys

    with app.app_context():
        rater = db.session.execute(db.select(Rater).filter_by(code=rater_code)).scalar_one()
        issued = issue_keys([rater], db.session.get(Period, period_id), actor="test")[0]
        db.session.commit()
        return issued.token, issued.code


def assignments_of(app, rater_code, instrument=None):
    """The rater's assignments as (id, unit code, instrument key, state value), ordered."""
    from assessment.models import Assignment, Instrument

    with app.app_context():
        query = (
            db.select(Assignment.id, Unit.code, Instrument.key, Assignment.state)
            .join(Rater, Assignment.rater_id == Rater.id)
            .join(Unit, Assignment.unit_id == Unit.id)
            .join(Instrument, Assignment.instrument_id == Instrument.id)
            .where(Rater.code == rater_code)
            .order_by(Instrument.key, Unit.code)
        )
        if instrument:
            query = query.where(Instrument.key == instrument)
        return [(i, u, k, s.value) for i, u, k, s in db.session.execute(query)]
