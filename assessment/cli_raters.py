"""Command-line commands for raters' work: `assessment assign --period P`."""

import click
from flask.cli import with_appcontext

from .transactions import transactional


@click.command("assign")
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026")
@with_appcontext
@transactional
def assign_command(period_name):
    """Create the period's assignments from its rules; idempotent, never drops one that has answers."""
    from .services.assignments import AssignError, assign
    from .services.periods import NotFound, get_period

    try:
        period = get_period(period_name)
        run = assign(period, actor="cli")
    except (NotFound, AssignError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'instrument':<12}{'assigned':>10}{'added':>8}{'dropped':>9}{'kept':>6}")
    for key, c in run.counts.items():
        click.echo(f"{key:<12}{c.matched + c.kept:>10}{c.added:>8}{c.dropped:>9}{c.kept:>6}")
    click.echo(
        f"{'total':<12}{sum(c.matched + c.kept for c in run.counts.values()):>10}{run.added:>8}"
        f"{sum(c.dropped for c in run.counts.values()):>9}{sum(c.kept for c in run.counts.values()):>6}"
    )
    if run.raters_without_unit:
        names = ", ".join(run.raters_without_unit)
        click.echo(f"Department raters without a unit (no peer/self assignments): {names}")
    click.echo("kept = no longer matched by the rules but already answered, so never dropped.")


def register_rater_commands(cli):
    """Add the raters' commands to the app's CLI group (called from cli.register_commands)."""
    cli.add_command(assign_command)
