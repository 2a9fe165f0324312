"""Office accounts."""

import sys

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import fail


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, help="admin, data_admin, operator, viewer or unit_liaison")
@click.option("--unit", "unit_code", help="the unit of a unit liaison")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
@transactional
def create_user_command(name, role, unit_code, password_stdin):
    """Create an office account (the password is prompted, or read from standard input)."""
    from ..services.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(name, password, role, unit_code=unit_code, actor="cli")
    except UserError as exc:
        fail(str(exc))
    click.echo(f"User {name} ({role}) created.")


COMMANDS = (create_user_command,)
