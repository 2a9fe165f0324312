"""Command-line commands for the problem ledger: `assessment ledger --period P --out FILE.csv`."""

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("ledger")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the CSV file to write (UTF-8 with BOM)")
@with_appcontext
def ledger_command(period_name, out):
    """Write the problem ledger as interfaces.md says: number, unit, source, class, state, overdue …"""
    from .services.ledger import build_csv, ledger_rows
    from .services.periods import NotFound, get_period

    try:
        period = get_period(period_name)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    data = build_csv(period)
    out.write_bytes(data)
    click.echo(f"Wrote {len(ledger_rows(period))} problems of period {period.name} to {out}")


def register_ledger_commands(cli):
    """Add the ledger's commands to the app's CLI group (called from cli.register_commands)."""
    cli.add_command(ledger_command)
