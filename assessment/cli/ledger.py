"""The problem ledger (问题台账): `assessment ledger --period P --out FILE.csv`."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from .common import period_or_fail, write_file


@click.command("ledger")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the CSV file to write (UTF-8 with BOM)",
)
@with_appcontext
def ledger_command(period_name, out):
    """Write the problem ledger as interfaces.md says: number, unit, source, class, state, overdue …"""
    from ..services.ledger_lists import build_csv, ledger_rows

    period = period_or_fail(period_name)
    rows = ledger_rows(period)
    write_file(out, build_csv(period, rows))
    click.echo(f"Wrote {len(rows)} problems of period {period.name} to {out}")


COMMANDS = (ledger_command,)
