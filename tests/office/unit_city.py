"""A tiny city for the check point, establishment and liaison tests: units U01 (市民政局) and U02 (市档案馆),
period 2026 (open), liaisons li1 (U01) and li2 (U02), an operator `op` and a viewer `vw`; all passwords PW."""

from datetime import date

from assessment.extensions import db
from assessment.models import Period, PeriodState, Result, ResultRow, ResultState, Scheme, Unit, UnitKind

PW = "correct-horse-1"


def make_city(app, make_user):
    with app.app_context():
        db.session.add_all(
            [
                Unit(
                    code="U01",
                    name="市民政局",
                    kind=UnitKind.GOVERNMENT,
                    category="政府部门",
                    establishment=40,
                    actual_staff=35,
                    leader_posts=4,
                    leaders_in_post=4,
                ),
                Unit(
                    code="U02",
                    name="市档案馆",
                    kind=UnitKind.INSTITUTION,
                    category="事业单位",
                    establishment=20,
                    actual_staff=22,
                    leader_posts=2,
                    leaders_in_post=3,
                ),
                Period(
                    name="2026",
                    state=PeriodState.OPEN,
                    starts_on=date(2026, 1, 1),
                    ends_on=date(2026, 12, 31),
                    as_of=date(2026, 12, 31),
                ),
            ]
        )
        db.session.commit()
    make_user("li1", role="unit_liaison", password=PW, unit_code="U01")
    make_user("li2", role="unit_liaison", password=PW, unit_code="U02")
    make_user("op", role="operator", password=PW)
    make_user("vw", role="viewer", password=PW)


def publish_with_reduction(app, unit_code="U01", reduction=2, action="restrict"):
    """Store a published result of 2026 in which `unit_code` is poor with a suggested reduction."""
    import scoring

    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        unit = db.session.execute(db.select(Unit).filter_by(code=unit_code)).scalar_one()
        text = scoring.default_scheme_text()
        leaves = {leaf.id: {"value": 55.0, "n": 10, "contribution": 0.0} for leaf in scoring.load_scheme(text).leaves}
        scheme = Scheme(period_id=period.id, version=1, text=text, fingerprint="f" * 64)
        db.session.add(scheme)
        db.session.flush()
        result = Result(
            period_id=period.id, version=1, scheme_id=scheme.id, data_fingerprint="d" * 64, state=ResultState.PUBLISHED
        )
        db.session.add(result)
        db.session.flush()
        db.session.add(
            ResultRow(
                result_id=result.id,
                unit_id=unit.id,
                unit_code=unit.code,
                unit_name=unit.name,
                category=unit.category,
                base=55.0,
                composite=55.0,
                rank=1,
                grade="poor",
                assessment_points=2.2,
                establishment_action=action,
                suggested_reduction=reduction,
                coverage=1.0,
                deduction=0.0,
                bonus=0.0,
                leaves=leaves,
            )
        )
        period.state = PeriodState.PUBLISHED
        db.session.commit()
