"""Every command that writes is one transaction: it stores everything or, when it fails halfway, nothing."""

import click
import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import AuditEntry, CalendarDay, Device, Period, Unit, User

#: Commands of ours that only read (or write files, never the database): the rest must be `transactional`.
READ_ONLY = {"instruments", "device-list", "reminders", "ledger", "scheme show", "backup"}
#: Commands that own their transactions, with why: they are not one unit of work.
OWN_TRANSACTIONS = {
    "report-worker": "a long-running worker that commits each report job as it claims and finishes it",
    "restore": "copies a whole database into an empty one with the engine's own tools (backup API, pg_restore)",
}


def _ours(group, prefix=""):
    """(name, command) of every command the app adds, subcommands of groups included."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _ours(command, f"{prefix}{name} ")
        elif command.callback.__module__.startswith("assessment.cli"):
            yield prefix + name, command


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_every_writing_command_is_transactional(app):
    """Does every command that may write run through `transactional` (one commit, or a rollback)?"""
    commands = dict(_ours(app.cli))
    assert {"import", "score", "period open", "device-add", "invitations"} <= set(commands)
    missing = [
        name
        for name, cmd in commands.items()
        if name not in READ_ONLY and name not in OWN_TRANSACTIONS and not getattr(cmd.callback, "transactional", False)
    ]
    assert missing == []


def _fail_after(monkeypatch, module, name):
    """Let the real service `module.name` do its work (flushing rows), then fail as a full disk would."""
    real = getattr(module, name)

    def run_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        db.session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, name, run_then_fail)


@pytest.mark.parametrize(
    ("args", "target", "model"),
    [
        (["create-user", "li", "--role", "operator", "--password-stdin"], ("users", "create_user"), User),
        (["device-add", "--integration"], ("ratings.devices", "register_device"), Device),
        (["calendar-defaults"], ("workdays", "install_defaults"), CalendarDay),
        (["period", "open", "2031"], ("periods", "move_period"), Period),
    ],
    ids=["create-user", "device-add", "calendar-defaults", "period-open"],
)
def test_a_command_failing_halfway_leaves_nothing(app, runner, monkeypatch, args, target, model):
    """Does a command whose service wrote rows and then failed leave no new row and no audit entry behind?"""
    import importlib

    before = _count(app, model)  # migrations seed some rows (the shipped calendar)
    module = importlib.import_module(f"assessment.services.{target[0]}")
    _fail_after(monkeypatch, module, target[1])
    result = runner.invoke(args=args, input="a-long-password\n")
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert _count(app, model) == before
    assert _count(app, AuditEntry) == 0


def test_a_bad_import_leaves_no_period_and_no_rows(app, runner, tmp_path):
    """Does an import of a bad file into a new period leave neither the period nor any of the good rows?"""
    path = tmp_path / "units.csv"
    path.write_text("code,name,kind,category\nU1,a,party,c\nU2,,party,c\n", encoding="utf-8")
    result = runner.invoke(args=["import", "units", str(path), "--period", "2031"])
    assert result.exit_code == 1 and "nothing was written" in result.output
    assert _count(app, Period) == 0 and _count(app, Unit) == 0 and _count(app, AuditEntry) == 0


def test_a_refused_move_keeps_the_period_it_did_not_touch(app, runner):
    """Does a refused `period publish` (no result yet) leave the period as it was, with no audit entry?"""
    assert runner.invoke(args=["period", "open", "2031"]).exit_code == 0
    entries = _count(app, AuditEntry)
    assert runner.invoke(args=["period", "close", "2031"]).exit_code == 0
    result = runner.invoke(args=["period", "publish", "2031"])
    assert result.exit_code != 0 and "no result yet" in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(Period)).one().state.value == "closed"
    assert _count(app, AuditEntry) == entries + 1  # the close only
