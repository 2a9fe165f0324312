"""Administration commands: backup and restore of the whole database, lifting a sign-in lock-out."""

import click
from flask.cli import with_appcontext

from .extensions import db
from .transactions import transactional


@click.command("unlock-user")
@click.argument("username")
@with_appcontext
@transactional
def unlock_user_command(username):
    """Lift an office account's sign-in lock-out (audited as done by "cli")."""
    from .models import User
    from .services.signin import unlock

    if db.session.execute(db.select(User.id).filter_by(username=username)).first() is None:
        raise click.ClickException(f"no user '{username}'")
    was_locked = unlock(username, actor="cli")
    click.echo(f"User {username} unlocked." if was_locked else f"User {username} was not locked; counter reset.")


def register_admin_commands(cli):
    """Add the administration commands to the `assessment` group."""
    for command in (unlock_user_command,):
        cli.add_command(command)
