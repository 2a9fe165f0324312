"""Administration commands: backup and restore of the whole database, lifting a sign-in lock-out."""

import click
from flask.cli import with_appcontext

from ..transactions import transactional


@click.command("unlock-user")
@click.argument("username")
@with_appcontext
@transactional
def unlock_user_command(username):
    """Lift an office account's sign-in lock-out (audited as done by "cli")."""
    from ..services.signin import UnknownAccount, unlock

    try:
        was_locked = unlock(username, actor="cli")
    except UnknownAccount:
        raise click.ClickException(f"no user '{username}'") from None
    click.echo(
        f"User {username} unlocked."
        if was_locked
        else f"User {username} was not locked; its failure count starts again."
    )


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="the backup file to write")
@with_appcontext
def backup_command(out):
    """Write a consistent copy of the whole database while the app runs (SQLite backup API; pg_dump -Fc)."""
    from ..services.backup import BackupError, backup

    try:
        path = backup(out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def restore_command(file):
    """Restore a backup into the configured database, which must be new and empty."""
    from ..services.backup import BackupError, restore

    try:
        tables = restore(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {file}: {tables} tables. Run `assessment init-db` if this app is newer than the backup.")


COMMANDS = (unlock_user_command, backup_command, restore_command)
