"""A period's life: `assessment period open|close|publish P`."""

import click
from flask.cli import with_appcontext

from ..transactions import transactional
from .common import fail


@click.group("period")
def period_group():
    """Move a period through its states: draft → open → closed → published."""


def _move(name, target):
    from ..models import PeriodStateError
    from ..services.periods import NotFound, move_period
    from ..services.scoring import ScoringError

    try:
        period = move_period(name, target, actor="cli")
    except (NotFound, PeriodStateError, ScoringError) as exc:
        fail(str(exc))
    click.echo(f"Period {period.name} is now {period.state.value}.")


@period_group.command("open")
@click.argument("name")
@with_appcontext
@transactional
def period_open(name):
    """Open a period for collection (creating it as a draft first if it does not exist)."""
    from ..services.periods import get_or_create_period

    get_or_create_period(name, actor="cli")
    _move(name, "open")


@period_group.command("close")
@click.argument("name")
@with_appcontext
@transactional
def period_close(name):
    """Stop collecting for a period."""
    _move(name, "close")


@period_group.command("publish")
@click.argument("name")
@with_appcontext
@transactional
def period_publish(name):
    """Publish a closed period (freezing its latest result version)."""
    _move(name, "publish")


COMMANDS = (period_group,)
