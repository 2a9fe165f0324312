"""The `assessment` command line: thin click commands grouped by domain, each calling services.

Every command that writes runs through `transactional` (assessment/transactions.py): it commits once when it
returns and rolls back when it fails, so a command that stops halfway leaves nothing behind.
"""

from flask.cli import FlaskGroup

from . import admin, database, imports, ledger, periods, ratings, results, scheme, surveys, users

#: The domain modules; each lists its commands in COMMANDS.
MODULES = (database, users, periods, imports, results, scheme, ratings, surveys, ledger, admin)


def register_commands(app):
    """Add every command of every domain module to the app's CLI group."""
    for module in MODULES:
        for command in module.COMMANDS:
            app.cli.add_command(command)


def _create_app(*args, **kwargs):
    from .. import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=True,
    add_version_option=False,
    help="Evaluation platform of the establishment office (编办).",
)


def main():
    """The console script `assessment` (pyproject.toml)."""
    cli(prog_name="assessment")
