"""The `assessment` command line: thin click commands that call services."""

import os
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from .extensions import db


def _fail(message):
    raise click.ClickException(message)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the schema (migrations); running it twice is harmless."""
    from .services.database import init_db
    from .services.instruments import sync_instruments

    init_db()
    added = sync_instruments()
    db.session.commit()
    click.echo(f"Database ready. Instruments added: {added}.")


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, help="admin, data_admin, operator, viewer or unit_liaison")
@click.option("--unit", "unit_code", help="the unit of a unit liaison")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def create_user_command(name, role, unit_code, password_stdin):
    """Create an office account (the password is prompted, or read from standard input)."""
    from .services.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(name, password, role, unit_code=unit_code, actor="cli")
    except UserError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"User {name} ({role}) created.")


@click.command("ensure-admin")
@click.option("--username", default="office", show_default=True)
@with_appcontext
def ensure_admin_command(username):
    """Create a first admin account with a random password when there is no account yet, and say how to sign in."""
    from flask import current_app

    from .services.users import ensure_first_admin

    password_file = os.path.join(current_app.instance_path, "initial_admin_password")
    created = ensure_first_admin(username, password_file)
    db.session.commit()
    if created:
        click.echo(f"Office login created: user '{username}', password in {password_file}:")
        with open(password_file) as fh:
            click.echo(f"    {fh.read().strip()}")
    elif os.path.exists(password_file):
        with open(password_file) as fh:
            click.echo(f"Office login: user '{username}', password {fh.read().strip()} (from {password_file}).")
    else:
        click.echo("Office accounts exist; sign in with yours (assessment create-user adds more).")


@click.group("period")
def period_group():
    """Move a period through its states: draft → open → closed → published."""


def _period_move(name, target):
    from .models import PeriodStateError
    from .services.periods import NotFound, move_period

    try:
        period = move_period(name, target, actor="cli")
    except (NotFound, PeriodStateError) as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Period {period.name} is now {period.state.value}.")


@period_group.command("open")
@click.argument("name")
@with_appcontext
def period_open(name):
    """Open a period for collection (creating it as a draft first if it does not exist)."""
    from .services.periods import get_or_create_period

    get_or_create_period(name, actor="cli")
    _period_move(name, "open")


@period_group.command("close")
@click.argument("name")
@with_appcontext
def period_close(name):
    """Stop collecting for a period."""
    _period_move(name, "close")


@period_group.command("publish")
@click.argument("name")
@with_appcontext
def period_publish(name):
    """Publish a closed period (freezing its latest result version)."""
    _period_move(name, "publish")


@click.command("instruments")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv")
def instruments_command(fmt):
    """Print every question of every instrument: instrument,question,theme,type,weight,text."""
    from surveys import load_all, write_instruments_csv

    write_instruments_csv(load_all(), sys.stdout)


class _Progress:
    """Progress on stderr for long jobs: `progress(done, total, label)`."""

    def __init__(self):
        self._last = None

    def __call__(self, done, total, label=""):
        pct = int(100 * done / total) if total else 100
        key = (label, pct)
        if key != self._last:
            self._last = key
            click.echo(f"\r{label} {done}/{total} ({pct}%)", nl=(done >= total), err=True)


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026 (created if new)")
@click.option("--code-system", default="standard", type=click.Choice(["standard", "gbt39046"]),
              help="for ratings: how the file numbers levels (gbt39046: 1 = 非常满意)")
@with_appcontext
def import_command(kind, file, period_name, code_system):
    """Import a CSV or XLSX file; writes nothing if any row is bad."""
    from .services.imports import KINDS, ImportFailed, run_import

    if kind not in KINDS:
        _fail(f"unknown import kind '{kind}' (expected one of: {', '.join(KINDS)})")
    try:
        report = run_import(kind, file, period_name, actor="cli", progress=_Progress(),
                            options={"code_system": code_system})
    except ImportFailed as exc:
        db.session.rollback()
        click.echo(f"Import of {file} failed: nothing was written.", err=True)
        for err in exc.errors:
            click.echo(f"  {err.english()}", err=True)
        if exc.truncated:
            click.echo(f"  ... and {exc.truncated} more", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(report.summary())


@click.command("demo-data")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--ratings", "n_ratings", default=100_000, show_default=True, type=int)
@click.option("--period", "period_name", default="2026", show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing (and succeed) when the database already has data")
@with_appcontext
def demo_data_command(seed, n_ratings, period_name, if_empty):
    """Load a realistic demo city into an empty database (same seed, same city)."""
    from .services.demo import DemoRefused, load_demo

    try:
        counts = load_demo(seed=seed, n_ratings=n_ratings, period_name=period_name, progress=_Progress())
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"Demo city not loaded: {exc}.")
            return
        _fail(str(exc))
    click.echo("Demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def register_commands(app):
    for command in (
        init_db_command,
        create_user_command,
        ensure_admin_command,
        period_group,
        instruments_command,
        import_command,
        demo_data_command,
    ):
        app.cli.add_command(command)


def _create_app(*args, **kwargs):
    from . import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=True, add_version_option=False,
                 help="Evaluation platform of the establishment office (编办).")


def main():
    cli(prog_name="assessment")
