"""The command line as interfaces.md describes it."""

import csv
import io

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import AuditEntry, Period, User


def test_create_user_from_stdin(runner, app):
    """Does create-user read the password from stdin and store a working account?"""
    result = runner.invoke(
        args=["create-user", "li", "--role", "operator", "--password-stdin"], input="a-long-password\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(sa.select(User)).one()
        assert user.role.value == "operator" and user.check_password("a-long-password")


def test_create_user_refuses_short_password_and_bad_role(runner):
    """Are a too-short password and an unknown role refused with a clear message?"""
    result = runner.invoke(args=["create-user", "li", "--role", "operator", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "at least 8" in result.output
    result = runner.invoke(args=["create-user", "li", "--role", "boss", "--password-stdin"], input="a-long-password\n")
    assert result.exit_code != 0 and "unknown role" in result.output


def test_period_moves_through_its_states(runner, app):
    """Does `period open/close/publish` move a period through its states in order?"""
    assert runner.invoke(args=["period", "open", "2026"]).exit_code == 0
    result = runner.invoke(args=["period", "publish", "2026"])
    assert result.exit_code != 0 and "cannot move from open to published" in result.output
    assert runner.invoke(args=["period", "close", "2026"]).exit_code == 0
    result = runner.invoke(args=["period", "publish", "2026"])
    assert result.exit_code != 0 and "no result yet" in result.output
    assert runner.invoke(args=["period", "open", "2026"]).exit_code == 0  # re-opened before publication
    with app.app_context():
        period = db.session.scalars(sa.select(Period)).one()
        assert period.state.value == "open"
        assert str(period.as_of) == "2026-12-31"
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("period.move") == 3


def test_closing_an_unknown_period_fails_clearly(runner):
    """Does closing a period that does not exist fail with a clear message?"""
    result = runner.invoke(args=["period", "close", "1999"])
    assert result.exit_code != 0 and "period '1999' does not exist" in result.output


def test_instruments_csv(runner):
    """Does `instruments --format csv` print every question with the specified columns?"""
    result = runner.invoke(args=["instruments", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == ["instrument", "question", "theme", "type", "weight", "text"]
    instruments = [r["instrument"] for r in rows]
    assert instruments[0] == "grassroots"
    assert {r["theme"] for r in rows if r["instrument"] == "grassroots"} == {
        "territorial",
        "response",
        "burden",
        "support",
    }
    assert set(instruments) == {"grassroots", "leader", "peer", "self", "deputy", "expert"}


def test_ensure_admin_creates_one_account_once(runner, app):
    """Does ensure-admin create the first admin once and never a second one?"""
    first = runner.invoke(args=["ensure-admin"])
    assert first.exit_code == 0 and "Office login created" in first.output
    password = first.output.strip().splitlines()[-1].strip()
    second = runner.invoke(args=["ensure-admin"])
    assert second.exit_code == 0 and password in second.output
    with app.app_context():
        users = db.session.scalars(sa.select(User)).all()
        assert len(users) == 1 and users[0].check_password(password)
