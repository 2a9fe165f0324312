"""Finding a period by name: a leaf module, so that services that need a period (scoring, imports) and the
period workflow (periods.py, which publishes through scoring) do not import each other."""

import re
from datetime import date

from ..extensions import db
from ..models import Period
from .workdays import china_today


class NotFound(LookupError):
    """A named object does not exist; the message says which, in English (CLI) — pages translate."""


def default_dates(name: str):
    """A period named by a year runs over that calendar year, judged as of 31 December; any other name, over
    this year in China."""
    match = re.fullmatch(r"(\d{4})", name.strip())
    year = int(match.group(1)) if match else china_today().year
    return date(year, 1, 1), date(year, 12, 31)


def get_period(name: str) -> Period:
    """The period called `name`, or NotFound with a clear message."""
    period = db.session.execute(db.select(Period).filter_by(name=str(name))).scalar_one_or_none()
    if period is None:
        raise NotFound(f"period '{name}' does not exist")
    return period
