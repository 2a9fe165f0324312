"""The `assessment` command line: thin click commands that call services."""

import os
import sys

import click
from flask.cli import FlaskGroup, with_appcontext

from .extensions import db
from .transactions import transactional


def _fail(message):
    raise click.ClickException(message)


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the schema (migrations); running it twice is harmless."""
    from .services.database import init_db
    from .services.instruments import sync_instruments

    init_db()
    added = sync_instruments()
    db.session.commit()
    click.echo(f"Database ready. Instruments added: {added}.")


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, help="admin, data_admin, operator, viewer or unit_liaison")
@click.option("--unit", "unit_code", help="the unit of a unit liaison")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def create_user_command(name, role, unit_code, password_stdin):
    """Create an office account (the password is prompted, or read from standard input)."""
    from .services.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(name, password, role, unit_code=unit_code, actor="cli")
    except UserError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"User {name} ({role}) created.")


@click.command("ensure-admin")
@click.option("--username", default="office", show_default=True)
@with_appcontext
def ensure_admin_command(username):
    """Create a first admin account with a random password when there is no account yet, and say how to sign in."""
    from flask import current_app

    from .services.users import ensure_first_admin

    password_file = os.path.join(current_app.instance_path, "initial_admin_password")
    created = ensure_first_admin(username, password_file)
    db.session.commit()
    if created:
        click.echo(f"Office login created: user '{username}', password in {password_file}:")
        with open(password_file) as fh:
            click.echo(f"    {fh.read().strip()}")
    elif os.path.exists(password_file):
        with open(password_file) as fh:
            click.echo(f"Office login: user '{username}', password {fh.read().strip()} (from {password_file}).")
    else:
        click.echo("Office accounts exist; sign in with yours (assessment create-user adds more).")


@click.group("period")
def period_group():
    """Move a period through its states: draft → open → closed → published."""


def _period_move(name, target):
    from .models import PeriodStateError
    from .services.periods import NotFound, move_period
    from .services.scoring import ScoringError

    try:
        period = move_period(name, target, actor="cli")
    except (NotFound, PeriodStateError, ScoringError) as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Period {period.name} is now {period.state.value}.")


@period_group.command("open")
@click.argument("name")
@with_appcontext
def period_open(name):
    """Open a period for collection (creating it as a draft first if it does not exist)."""
    from .services.periods import get_or_create_period

    get_or_create_period(name, actor="cli")
    _period_move(name, "open")


@period_group.command("close")
@click.argument("name")
@with_appcontext
def period_close(name):
    """Stop collecting for a period."""
    _period_move(name, "close")


@period_group.command("publish")
@click.argument("name")
@with_appcontext
def period_publish(name):
    """Publish a closed period (freezing its latest result version)."""
    _period_move(name, "publish")


@click.command("instruments")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv")
def instruments_command(fmt):
    """Print every question of every instrument: instrument,question,theme,type,weight,text."""
    from surveys import load_all, write_instruments_csv

    write_instruments_csv(load_all(), sys.stdout)


class _Progress:
    """Progress on stderr for long jobs: `progress(done, total, label)`.

    On a terminal one line is rewritten in place; in a log (CI, cron) a line is written per 10% step.
    """

    def __init__(self):
        self._last = None
        self._tty = sys.stderr.isatty()

    def __call__(self, done, total, label=""):
        pct = int(100 * done / total) if total else 100
        key = (label, pct if self._tty else pct // 10)
        if key == self._last:
            return
        self._last = key
        if self._tty:
            click.echo(f"\r{label} {done}/{total} ({pct}%)", nl=(done >= total), err=True)
        else:
            click.echo(f"{label} {done}/{total} ({pct}%)", err=True)


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026 (created if new)")
@click.option("--code-system", default="standard", type=click.Choice(["standard", "gbt39046"]),
              help="for ratings: how the file numbers levels (gbt39046: 1 = 非常满意)")
@with_appcontext
def import_command(kind, file, period_name, code_system):
    """Import a CSV or XLSX file; writes nothing if any row is bad."""
    from .services.imports import KINDS, ImportFailed, run_import

    if kind not in KINDS:
        _fail(f"unknown import kind '{kind}' (expected one of: {', '.join(KINDS)})")
    try:
        report = run_import(kind, file, period_name, actor="cli", progress=_Progress(),
                            options={"code_system": code_system})
    except ImportFailed as exc:
        db.session.rollback()
        click.echo(f"Import of {file} failed: nothing was written.", err=True)
        for err in exc.errors:
            click.echo(f"  {err.english()}", err=True)
        if exc.truncated:
            click.echo(f"  ... and {exc.truncated} more", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(report.summary())


@click.command("demo-data")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--ratings", "n_ratings", default=100_000, show_default=True, type=int)
@click.option("--period", "period_name", default="2026", show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing (and succeed) when the database already has data")
@with_appcontext
@transactional
def demo_data_command(seed, n_ratings, period_name, if_empty):
    """Load a realistic demo city into an empty database (same seed, same day: same city)."""
    from .demo import DemoRefused, load_demo

    try:
        counts = load_demo(seed=seed, n_ratings=n_ratings, period_name=period_name, progress=_Progress())
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"Demo city not loaded: {exc}.")
            return
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))
    click.echo("Demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("score")
@click.option("--period", "period_name", required=True)
@with_appcontext
def score_command(period_name):
    """Compute a new result version with the period's scheme and print the ranked table."""
    from scoring.rounding import format_half_up

    from .services.periods import NotFound
    from .services.scoring import ScoringError, ordered_rows, score_period

    try:
        run = score_period(period_name, actor="cli", progress=_Progress())
    except (NotFound, ScoringError) as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
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
    from .services.periods import NotFound
    from .services.scoring import ScoringError, review_unit

    try:
        row = review_unit(period_name, unit_code, note, actor="cli")
    except (NotFound, ScoringError) as exc:
        _fail(str(exc))
    click.echo(f"Unit {row.unit_code} ({row.unit_name}) reviewed in result version {row.result.version} of "
               f"period {period_name}: {row.review_note}")


@click.command("export")
@click.option("--period", "period_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf", "assessment", "zip"]), required=True,
              help="csv / xlsx: the results; pdf: the printed report; assessment: the 综合考核 file; "
                   "zip: every unit's report as its own PDF")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--version", "version", type=int, help="a result version (default: the latest)")
@click.option("--unit", "unit_code", help="with --format pdf: that unit's pages alone")
@with_appcontext
@transactional
def export_command(period_name, fmt, out_path, version, unit_code):
    """Write the period's results: CSV, xlsx, the printed PDF report (or one unit's pages), the file for the
    comprehensive-assessment office, or all units' reports as a zip. The report and the zip are kept per
    result version (built here with progress if the report worker has not built them yet)."""
    from .services import exports, jobs
    from .services.periods import NotFound, get_period
    from .services.scoring import latest_result

    try:
        period = get_period(period_name)
    except NotFound as exc:
        _fail(str(exc))
    result = latest_result(period, version)
    if result is None:
        _fail(f"period {period_name} has no result{' version ' + str(version) if version else ''}: "
              f"run `assessment score --period {period_name}` first")
    if unit_code is not None and fmt != "pdf":
        _fail("--unit goes with --format pdf")
    if fmt == "pdf" and unit_code is not None:
        data = exports.build_unit_pdf(result, unit_code)
        if data is None:
            _fail(f"unit {unit_code} is not in result version {result.version} of period {period_name}")
    elif fmt in ("pdf", "zip"):
        data = jobs.report_bytes(result, jobs.REPORT if fmt == "pdf" else jobs.UNITS_ZIP, progress=_Progress())
    else:
        builders = {"csv": exports.build_csv, "xlsx": exports.build_xlsx, "assessment": exports.build_assessment}
        data = builders[fmt](result)
    with open(out_path, "wb") as fh:
        fh.write(data)
    click.echo(f"Wrote {out_path} (result version {result.version}, {len(result.rows)} units).")


@click.command("report-worker")
@click.option("--once", is_flag=True, help="run the queued jobs, then stop (default: keep polling)")
@click.option("--poll", default=2.0, show_default=True, help="seconds between looks at the queue when idle")
@click.option("--processes", type=int, help="pages laid out in parallel (default: REPORT_PROCESSES or the cores)")
@with_appcontext
def report_worker_command(once, poll, processes):
    """Build the printed reports of new result versions in the background (run one or more as a service)."""
    from .services import jobs

    ran = jobs.work(once=once, poll=poll, echo=_Progress(), processes=processes, log=click.echo)
    click.echo(f"Report jobs run: {ran}.")


def register_commands(app):
    for command in (
        init_db_command,
        create_user_command,
        ensure_admin_command,
        period_group,
        instruments_command,
        import_command,
        demo_data_command,
        score_command,
        review_command,
        export_command,
        report_worker_command,
    ):
        app.cli.add_command(command)
    from .cli_ratings import register_rating_commands
    from .cli_scheme import scheme_group

    register_rating_commands(app)
    app.cli.add_command(scheme_group)


def _create_app(*args, **kwargs):
    from . import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=True, add_version_option=False,
                 help="Evaluation platform of the establishment office (编办).")


def main():
    cli(prog_name="assessment")
