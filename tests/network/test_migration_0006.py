"""Migration 0006 can be taken back on a database that holds what it added (experts with links and comments)."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from assessment.extensions import db
from assessment.models import Participant, Period, Problem, ProblemStep
from assessment.services import access, ledger
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
