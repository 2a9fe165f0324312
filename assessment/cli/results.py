"""Results: `score`, `review`, `export`."""

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import Progress, fail, period_or_fail


@click.command("score")
@click.option("--period", "period_name", required=True)
@with_appcontext
@transactional
def score_command(period_name):
    """Compute a new result version with the period's scheme and print the ranked table."""
    from scoring.rounding import format_half_up

    from ..services.periods import NotFound
    from ..services.scoring import ScoringError, ordered_rows, score_period

    try:
        run = score_period(period_name, actor="cli", progress=Progress())
    except (NotFound, ScoringError) as exc:
        fail(str(exc))
    result = run.result
    click.echo(f"Result version {result.version} of period {period_name} (data {result.data_fingerprint[:12]}).")
    category = None
    for row in ordered_rows(result):
        if row.category != category:
            category = row.category
            click.echo(f"\n[{category}]")
            click.echo(f"{'rank':>4}  {'code':<8} {'composite':>9} {'grade':<9} {'action':<8} {'susp':<5} name")
        flag = " *review" if row.review_flag else ""
        if row.composite is None:
            click.echo(f"{'-':>4}  {row.unit_code:<8} {'no data':>9} {'':<9} {'':<8} {'':<5} {row.unit_name}")
            continue
        click.echo(
            f"{row.rank:>4}  {row.unit_code:<8} {format_half_up(row.composite):>9} {row.grade:<9} "
            f"{row.establishment_action:<8} {'yes' if row.approvals_suspended else '':<5} {row.unit_name}{flag}"
        )
    flagged = sum(1 for r in result.rows if r.review_flag)
    if flagged:
        click.echo(f"\n{flagged} unit(s) flagged for review (grade kept in < 80% of sensitivity draws).")
    if run.changes:
        click.echo(f"\nChanges against the published version: {len(run.changes)} unit(s)")
        for c in run.changes:
            click.echo(f"  {c['unit']} {c['name']}: rank {c['rank_before']} -> {c['rank_after']}, "
                       f"grade {c['grade_before']} -> {c['grade_after']}")


@click.command("review")
@click.option("--period", "period_name", required=True)
@click.option("--unit", "unit_code", required=True, help="the code of a unit flagged for review")
@click.option("--note", required=True, help="the review note kept with the result (复核意见)")
@with_appcontext
@transactional
def review_command(period_name, unit_code, note):
    """Acknowledge a unit flagged for review in the latest result version, as the console's review form does."""
    from ..services.periods import NotFound
    from ..services.scoring import ScoringError, review_unit

    try:
        row = review_unit(period_name, unit_code, note, actor="cli")
    except (NotFound, ScoringError) as exc:
        fail(str(exc))
    click.echo(f"Unit {row.unit_code} ({row.unit_name}) reviewed in result version {row.result.version} of "
               f"period {period_name}: {row.review_note}")


@click.command("export")
@click.option("--period", "period_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf"]), required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--version", "version", type=int, help="a result version (default: the latest)")
@with_appcontext
def export_command(period_name, fmt, out_path, version):
    """Write the period's results as CSV, an xlsx workbook, or the printed PDF report."""
    from ..services import exports
    from ..services.scoring import latest_result

    period = period_or_fail(period_name)
    result = latest_result(period, version)
    if result is None:
        fail(f"period {period_name} has no result{' version ' + str(version) if version else ''}: "
             f"run `assessment score --period {period_name}` first")
    builders = {"csv": exports.build_csv, "xlsx": exports.build_xlsx, "pdf": exports.build_pdf}
    if fmt not in builders:
        fail(f"export format {fmt} is not available yet")
    data = builders[fmt](result)
    with open(out_path, "wb") as fh:
        fh.write(data)
    click.echo(f"Wrote {out_path} (result version {result.version}, {len(result.rows)} units).")


COMMANDS = (score_command, review_command, export_command)
