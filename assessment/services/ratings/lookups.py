"""What the device ingest path looks up on every request and keeps per process for a few seconds.

Periods and the case deadline change a few times a year; reading them on every rating would cost queries per
request. Each process keeps them at most API_PERIOD_CACHE_SECONDS (a period closed by the office is seen by every
worker within that time, as if the office had clicked that much later) and forgets them at once when this process
itself writes a period, a calendar day or a setting (the generation counters below).
"""

import time
from datetime import date, datetime

from flask import current_app
from sqlalchemy import event, select

from ...models import CalendarDay, Period, PeriodState, Setting
from ..workdays import china_date
from .cases import due_on
from .connection import current as current_connection
from .connection import run

_P = Period.__table__
_PERIODS = select(_P.c.id, _P.c.name, _P.c.starts_on, _P.c.ends_on, _P.c.state)

#: Bumped whenever this process writes a period / a calendar day or setting, so its own change is seen at once.
_period_generation = [0]
_calendar_generation = [0]


@event.listens_for(Period, "after_insert")
@event.listens_for(Period, "after_update")
@event.listens_for(Period, "after_delete")
def _forget_periods(mapper, connection, target):
    _period_generation[0] += 1


@event.listens_for(CalendarDay, "after_insert")
@event.listens_for(CalendarDay, "after_update")
@event.listens_for(CalendarDay, "after_delete")
@event.listens_for(Setting, "after_insert")
@event.listens_for(Setting, "after_update")
@event.listens_for(Setting, "after_delete")
def _forget_deadlines(mapper, connection, target):
    _calendar_generation[0] += 1


def _kept(name: str, key, generation: int, compute):
    """`compute()` as kept in this process under (name, key) while fresh and of the current generation."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault(name, {})
    now = time.monotonic()
    entry = cache.get(key)
    if entry is None or entry[1] != generation or now - entry[2] > app.config["API_PERIOD_CACHE_SECONDS"]:
        entry = cache[key] = (compute(), generation, now)
    return entry[0]


def open_periods():
    """Every period's id, name, dates and state (rows), as kept in this process."""
    return _kept("rating_periods", None, _period_generation[0], lambda: run(_PERIODS).all())


def case_due(opened_at: datetime) -> date:
    """The deadline of a bad-rating case opened at `opened_at`: once per China day per process, not two queries
    per bad rating (it depends on the case-days setting and the holiday calendar)."""
    day = china_date(opened_at)
    return _kept(
        "rating_case_due", day, _calendar_generation[0], lambda: due_on(day, connection=current_connection.get())
    )


def period_for(periods, day: date):
    """The open period whose dates contain `day` (latest start first), else (None, a closed one or None)."""
    containing = [p for p in periods if p.starts_on <= day <= p.ends_on]
    open_ = [p for p in containing if p.state is PeriodState.OPEN]
    if open_:
        return max(open_, key=lambda p: (p.starts_on, p.id)), None
    return None, (containing[0] if containing else None)
