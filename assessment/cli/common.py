"""What several commands share: failing with a message, finding a period, listing errors, progress, files."""

import sys
from pathlib import Path

import click


def fail(message):
    """Stop the command with `message` on stderr and exit code 1 (`transactional` rolls back)."""
    raise click.ClickException(message)


def period_or_fail(name):
    """The period named `name`, or a clear failure: "period '1999' does not exist"."""
    from ..services.periods import NotFound, get_period

    try:
        return get_period(name)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None


def echo_errors(header, lines, truncated=0):
    """Print a failure and each of its reasons on stderr, then how many more were left out."""
    click.echo(header, err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    if truncated:
        click.echo(f"  ... and {truncated} more", err=True)


def write_file(path, data: bytes):
    """Write `data` to `path`, or fail with the reason (before anything is committed)."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


class Progress:
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
