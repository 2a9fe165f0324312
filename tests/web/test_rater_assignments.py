"""Assignments from the period's rules: who rates which units, idempotent, never dropping answered ones."""

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import Assignment, AssignmentRule, Period, PeriodState, Rater, TargetScope, Unit
from assessment.services import responses
from assessment.services.assignments import AssignError, assign, rules, set_rule
from tests.web.helpers import assignments_of


def _targets(app, rater_code, instrument):
    return [u for _, u, _, _ in assignments_of(app, rater_code, instrument)]


def test_default_rules_give_each_group_its_units(app, city):
    """Do grassroots raters get units serving towns, leaders/deputies/experts all, departments peer + self?"""
    serving = ["U01", "U02", "U03", "U05"]
    everyone = ["U01", "U02", "U03", "U04", "U05"]
    assert _targets(app, "G01", "grassroots") == serving
    assert _targets(app, "L01", "leader") == everyone
    assert _targets(app, "P01", "deputy") == everyone
    assert _targets(app, "E01", "expert") == everyone
    assert _targets(app, "D01", "peer") == ["U02", "U03", "U04", "U05"]
    assert _targets(app, "D01", "self") == ["U01"]
    assert {k for _, _, k, _ in assignments_of(app, "G01")} == {"grassroots"}


def test_a_department_never_rates_itself_in_peer_review(app, city):
    """Is there no peer assignment of a department rater about their own unit, whatever the rules say?"""
    with app.app_context():
        period = db.session.get(Period, city.period_id)
        set_rule(period, "peer", "office", scope="listed_units", unit_codes=["U01", "U02", "U03"])
        assign(period, "office")
        db.session.commit()
    assert _targets(app, "D01", "peer") == ["U02", "U03"]
    assert _targets(app, "D02", "peer") == ["U01", "U03"]


def test_assign_is_idempotent(app, city):
    """Does running assign again add nothing and drop nothing?"""
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment))
        run = assign(db.session.get(Period, city.period_id), "again")
        db.session.commit()
        assert run.added == 0 and sum(c.dropped for c in run.counts.values()) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == before
        assert run.counts["grassroots"].matched == 2 * 4


def test_assign_adds_what_is_new(app, city):
    """Does a new rater and a new unit get their assignments on the next run?"""
    from assessment.models import RaterGroup, UnitKind

    with app.app_context():
        db.session.add(Unit(code="U06", name="市水务局", kind=UnitKind.GOVERNMENT, category="政府部门"))
        db.session.add(Rater(code="L02", name="新领导", group=RaterGroup.LEADER))
        db.session.flush()
        run = assign(db.session.get(Period, city.period_id), "office")
        db.session.commit()
        assert run.counts["leader"].added == 1 + 6  # the old leader rates U06, the new one all six
        assert run.counts["grassroots"].added == 2
    assert _targets(app, "L02", "leader") == ["U01", "U02", "U03", "U04", "U05", "U06"]


def test_never_drops_answered_assignments_but_drops_untouched_ones(app, city):
    """When a unit stops serving towns, are untouched assignments dropped and answered ones kept?"""
    g01 = {u: i for i, u, _, _ in assignments_of(app, "G01", "grassroots")}
    g02 = {u: i for i, u, _, _ in assignments_of(app, "G02", "grassroots")}
    with app.app_context():
        responses.save_draft(db.session.get(Assignment, g01["U03"]), {"g01": "4"})
        second = db.session.get(Assignment, g02["U03"])
        responses.save_draft(second, {"g01": "5"})
        responses.submit(second)
        db.session.execute(sa.update(Unit).where(Unit.code == "U03").values(serves_towns=False))
        run = assign(db.session.get(Period, city.period_id), "office")
        db.session.commit()
        assert run.counts["grassroots"].kept == 2 and run.counts["grassroots"].dropped == 0
        db.session.execute(sa.update(Unit).where(Unit.code == "U02").values(serves_towns=False))
        run = assign(db.session.get(Period, city.period_id), "office")
        db.session.commit()
        assert run.counts["grassroots"].dropped == 2  # both raters' untouched U02
        assert run.counts["grassroots"].kept == 2
    assert _targets(app, "G01", "grassroots") == ["U01", "U03", "U05"]


def test_an_assignment_opened_while_assign_runs_is_kept(app, city, monkeypatch):
    """When a rater saves a first answer between assign's snapshot and its delete, is the assignment kept?"""
    from assessment.services import assignments

    target = {u: i for i, u, _, _ in assignments_of(app, "G01", "grassroots")}["U02"]
    read_rules = assignments.rules

    def rules_after_a_rater_answered(period, actor):  # runs after the snapshot of untouched assignments
        responses.save_draft(db.session.get(Assignment, target), {"g01": "4"})
        return read_rules(period, actor)

    monkeypatch.setattr(assignments, "rules", rules_after_a_rater_answered)
    with app.app_context():
        db.session.execute(sa.update(Unit).where(Unit.code == "U02").values(serves_towns=False))
        run = assign(db.session.get(Period, city.period_id), "office")
        db.session.commit()
        assert run.counts["grassroots"].dropped == 1 and run.counts["grassroots"].kept == 1  # G02's, G01's
        assert db.session.get(Assignment, target).response.draft == {"g01": 4.0}


def test_all_units_rule_for_grassroots(app, city):
    """Can the office switch grassroots raters to every unit, including those not serving towns?"""
    with app.app_context():
        period = db.session.get(Period, city.period_id)
        set_rule(period, "grassroots", "office", scope=TargetScope.ALL_UNITS)
        assign(period, "office")
        db.session.commit()
    assert "U04" in _targets(app, "G01", "grassroots")


def test_disabled_rule_drops_untouched_assignments(app, city):
    """Does disabling the deputies' rule drop their untouched assignments?"""
    with app.app_context():
        period = db.session.get(Period, city.period_id)
        set_rule(period, "deputy", "office", enabled=False)
        run = assign(period, "office")
        db.session.commit()
        assert run.counts["deputy"].dropped == 5
    assert _targets(app, "P01", "deputy") == []


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"scope": "own_unit"}, "评价范围"),
        ({"scope": "everything"}, "评价范围"),
        ({"scope": "listed_units", "unit_codes": ["U99"]}, "指定单位"),
        ({"scope": "listed_units", "unit_codes": []}, "指定单位"),
    ],
)
def test_bad_rule_changes_name_the_field(app, city, kwargs, field):
    """Is a bad rule refused with a Chinese message naming the field, leaving the rule as it was?"""
    key = "grassroots" if kwargs["scope"] in ("own_unit", "everything") else "peer"
    with app.app_context():
        period = db.session.get(Period, city.period_id)
        with pytest.raises(AssignError) as caught:
            set_rule(period, key, "office", **kwargs)
        assert field in caught.value.message_zh
        db.session.rollback()
        rule = db.session.execute(sa.select(AssignmentRule).filter_by(instrument_key=key)).scalar_one()
        assert rule.scope in (TargetScope.SERVING_TOWNS, TargetScope.OTHER_UNITS)


def test_rules_are_visible_per_period(app, city):
    """Does every period get the six default rules in instrument order?"""
    with app.app_context():
        listed = rules(db.session.get(Period, city.period_id))
        assert [r.instrument_key for r in listed] == [
            "grassroots",
            "leader",
            "peer",
            "self",
            "deputy",
            "expert",
        ]


def test_closed_period_gets_no_new_assignments(app, city):
    """Is assign refused once the period is closed?"""
    with app.app_context():
        period = db.session.get(Period, city.period_id)
        period.state = PeriodState.CLOSED
        with pytest.raises(AssignError) as caught:
            assign(period, "office")
        assert "不能再生成" in caught.value.message_zh


def test_assign_command_prints_counts(app, city, runner):
    """Does `assessment assign --period 2026` print counts per instrument and stay idempotent?"""
    result = runner.invoke(args=["assign", "--period", "2026"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:] if line.strip()}
    assert lines["grassroots"][:2] == ["8", "0"] and lines["leader"][:2] == ["5", "0"]
    assert lines["peer"][:2] == ["8", "0"] and lines["self"][:2] == ["2", "0"]
    missing = runner.invoke(args=["assign", "--period", "1999"])
    assert missing.exit_code != 0 and "1999" in missing.output
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment))
        assert total == 8 + 5 + 8 + 2 + 5 + 5
