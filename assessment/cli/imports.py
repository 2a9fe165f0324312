"""`assessment import KIND FILE --period P`: all rows or none."""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from ..transactions import transactional
from .common import Progress, echo_errors, fail


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", "period_name", required=True, help="the period, e.g. 2026 (created if new)")
@click.option(
    "--code-system",
    default="standard",
    type=click.Choice(["standard", "gbt39046"]),
    help="for ratings: how the file numbers levels (gbt39046: 1 = 非常满意)",
)
@click.option(
    "--new-categories",
    is_flag=True,
    help="for units: allow categories no stored unit has yet (otherwise an unknown category is a "
    "row error, to catch typos)",
)
@with_appcontext
@transactional
def import_command(kind, file, period_name, code_system, new_categories):
    """Import a CSV or XLSX file; writes nothing if any row is bad."""
    from ..services.imports import KINDS, ImportFailed, run_import

    if kind not in KINDS:
        fail(f"unknown import kind '{kind}' (expected one of: {', '.join(KINDS)})")
    try:
        report = run_import(
            kind,
            file,
            period_name,
            actor="cli",
            progress=Progress(),
            options={"code_system": code_system, "new_categories": new_categories},
        )
    except ImportFailed as exc:
        echo_errors(f"Import of {file} failed: nothing was written.", [e.english() for e in exc.errors], exc.truncated)
        sys.exit(1)
    except IntegrityError:
        # Another import stored the same rows a moment ago: theirs won; ours is rolled back whole (transactional).
        fail(
            f"Import of {file} failed: nothing was written. Another import has just stored the same data; "
            "run the import again to see what is left."
        )
    click.echo(report.summary())


COMMANDS = (import_command,)
