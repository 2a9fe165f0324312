"""Results: `score`, `review`, `export`."""

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import Progress, fail, period_or_fail, write_file


@click.command("score")
@click.option("--period", "period_name", required=True)
@with_appcontext
@transactional
def score_command(period_name):
    """Compute a new result version with the period's scheme and print the ranked table."""
    from scoring.rounding import format_half_up

    from ..services.periods import NotFound
    from ..services.scoring import ScoringError, score_period

    try:
        run = score_period(period_name, actor="cli", progress=Progress())
    except (NotFound, ScoringError) as exc:
        fail(str(exc))
    result = run.result
    click.echo(f"Result version {result.version} of period {period_name} (data {result.data_fingerprint[:12]}).")
    category = None
    for row in result.ordered_rows():
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
            click.echo(
                f"  {c['unit']} {c['name']}: rank {c['rank_before']} -> {c['rank_after']}, "
                f"grade {c['grade_before']} -> {c['grade_after']}"
            )


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
    click.echo(
        f"Unit {row.unit_code} ({row.unit_name}) reviewed in result version {row.result.version} of "
        f"period {period_name}: {row.review_note}"
    )


@click.command("export")
@click.option("--period", "period_name", required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "pdf", "assessment", "zip"]),
    required=True,
    help="csv / xlsx: the results; pdf: the printed report; assessment: the 综合考核 file; "
    "zip: every unit's report as its own PDF",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--version", "version", type=int, help="a result version (default: the latest)")
@click.option("--unit", "unit_code", help="with --format pdf: that unit's pages alone")
@with_appcontext
@transactional
def export_command(period_name, fmt, out_path, version, unit_code):
    """Write the period's results: CSV, xlsx, the printed PDF report (or one unit's pages), the file for the
    comprehensive-assessment office, or all units' reports as a zip. The report and the zip are kept per
    result version (built here with progress if the report worker has not built them yet)."""
    from ..services import exports, jobs
    from ..services.scoring import latest_result

    period = period_or_fail(period_name)
    result = latest_result(period, version)
    if result is None:
        fail(
            f"period {period_name} has no result{' version ' + str(version) if version else ''}: "
            f"run `assessment score --period {period_name}` first"
        )
    if unit_code is not None and fmt != "pdf":
        fail("--unit goes with --format pdf")
    if fmt == "pdf" and unit_code is not None:
        data = exports.build_unit_pdf(result, unit_code)
        if data is None:
            fail(f"unit {unit_code} is not in result version {result.version} of period {period_name}")
    elif fmt in ("pdf", "zip"):
        data = jobs.report_bytes(result, jobs.REPORT if fmt == "pdf" else jobs.UNITS_ZIP, progress=Progress())
    else:
        builders = {"csv": exports.build_csv, "xlsx": exports.build_xlsx, "assessment": exports.build_assessment}
        data = builders[fmt](result)
    write_file(out_path, data)
    click.echo(f"Wrote {out_path} (result version {result.version}, {len(result.rows)} units).")


@click.command("report-worker")
@click.option("--once", is_flag=True, help="run the queued jobs, then stop (default: keep polling)")
@click.option("--poll", default=2.0, show_default=True, help="seconds between looks at the queue when idle")
@click.option("--processes", type=int, help="pages laid out in parallel (default: REPORT_PROCESSES or the cores)")
@with_appcontext
def report_worker_command(once, poll, processes):
    """Build the printed reports of new result versions in the background (run one or more as a service)."""
    from ..services import jobs

    ran = jobs.work(once=once, poll=poll, echo=Progress(), processes=processes, log=click.echo)
    click.echo(f"Report jobs run: {ran}.")


COMMANDS = (score_command, review_command, export_command, report_worker_command)
