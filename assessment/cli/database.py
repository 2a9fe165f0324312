"""Setting up a database: schema, demo city, first admin, calendar defaults."""

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import Progress, fail


@click.command("init-db")
@with_appcontext
@transactional
def init_db_command():
    """Create or upgrade the schema (migrations); running it twice is harmless."""
    from ..services.database import init_db
    from ..services.instruments import sync_instruments

    init_db()
    added = sync_instruments()
    click.echo(f"Database ready. Instruments added: {added}.")


@click.command("demo-data")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--ratings", "n_ratings", default=100_000, show_default=True, type=int)
@click.option("--period", "period_name", default="2026", show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing (and succeed) when the database already has data")
@with_appcontext
@transactional
def demo_data_command(seed, n_ratings, period_name, if_empty):
    """Load a realistic demo city into an empty database (same seed, same day: same city)."""
    from ..demo import DemoRefused, load_demo

    try:
        counts = load_demo(seed=seed, n_ratings=n_ratings, period_name=period_name, progress=Progress())
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"Demo city not loaded: {exc}.")
            return
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))
    click.echo("Demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("ensure-admin")
@click.option("--username", default="office", show_default=True)
@with_appcontext
@transactional
def ensure_admin_command(username):
    """Create a first admin account with a random password when there is no account yet, and say how to sign in."""
    from ..services.users import ensure_first_admin

    password_file = os.path.join(current_app.instance_path, "initial_admin_password")
    created = ensure_first_admin(username, password_file)
    if created:
        click.echo(f"Office login created: user '{username}', password in {password_file}:")
        with open(password_file) as fh:
            click.echo(f"    {fh.read().strip()}")
    elif os.path.exists(password_file):
        with open(password_file) as fh:
            click.echo(f"Office login: user '{username}', password {fh.read().strip()} (from {password_file}).")
    else:
        click.echo("Office accounts exist; sign in with yours (assessment create-user adds more).")


@click.command("calendar-defaults")
@with_appcontext
@transactional
def calendar_defaults_command():
    """Add the shipped 2026 holidays and adjusted working days the calendar lacks (edited days are kept)."""
    from ..services.workdays import install_defaults

    n = install_defaults(actor="cli")
    click.echo(f"{n} calendar day(s) added.")


COMMANDS = (init_db_command, demo_data_command, ensure_admin_command, calendar_defaults_command)
