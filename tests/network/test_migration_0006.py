"""Migration 0006 can be taken back on a database that holds what it added (experts with links and comments,
informants with links and suggestions turned into problems)."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from assessment.extensions import db
from assessment.models import Participant, Period, Problem, ProblemStep
from assessment.services import access, ledger, network
from assessment.services.ledger import ProblemInput


def test_downgrade_past_0006_with_an_expert_who_has_a_link_and_a_comment(app, net):
    """Does downgrading to 0005 work (on PostgreSQL the foreign keys hold) when an expert holds a link and has
    commented on a problem, and does upgrading again give the head back?"""
    with app.app_context():
        period = db.session.get(Period, net.period)
        expert = db.session.get(Participant, net.people["E1"])
        access.issue([expert], period, "test")
        problem = ledger.file_problem(period, ProblemInput(unit_id=net.units["U01"], title="可以回退"), "test")
        ledger.comment(problem, expert, "请限期整改")
        db.session.commit()
        db.session.remove()
        downgrade(revision="0005")
        try:
            with db.engine.connect() as conn:
                kinds = set(conn.scalars(sa.text("SELECT kind FROM participants")))
                tables = set(sa.inspect(conn).get_table_names())
            assert "expert" not in kinds and "problem_steps" not in tables
        finally:
            upgrade()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Problem)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProblemStep)) == 0


def test_downgrade_past_0006_with_an_informants_link_and_a_converted_suggestion(app, net):
    """Does downgrading to 0005 work on SQLite too (its batch copies drop tables other rows point at) when an
    informant holds a link and its suggestion has become a problem, and does upgrading again keep the problem?"""
    with app.app_context():
        period = db.session.get(Period, net.period)
        informant = db.session.get(Participant, net.people["I1"])
        access.issue([informant], period, "test")
        suggestion = network.submit_suggestion(
            period, informant, kind="report", unit_id=str(net.units["U01"]), text="窗口人员态度差"
        )
        network.screen(suggestion, "office", valid=True, note=None)
        network.to_problem(suggestion, "office", ProblemInput(unit_id=net.units["U01"], title="窗口服务态度"))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0005")
        try:
            with db.engine.connect() as conn:
                tables = set(sa.inspect(conn).get_table_names())
                assert "problem_steps" not in tables
                assert conn.scalar(sa.text("SELECT count(*) FROM problems")) == 1
        finally:
            upgrade()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Problem)) == 1
