"""Periods (评价周期): creation and the draft → open → closed → published workflow."""

import re
from datetime import date

from ..extensions import db
from ..models import Period, PeriodState
from . import audit
from .period_lookup import NotFound, default_dates, get_period  # noqa: F401  (re-exported)


def get_or_create_period(name: str, actor: str = "system") -> Period:
    """The period called `name`, created as a draft over its calendar year when it is new."""
    name = str(name).strip()
    if not name:
        raise ValueError("period name is empty")
    period = db.session.execute(db.select(Period).filter_by(name=name)).scalar_one_or_none()
    if period is None:
        starts, ends = default_dates(name)
        period = Period(name=name, starts_on=starts, ends_on=ends, as_of=ends, state=PeriodState.DRAFT)
        db.session.add(period)
        db.session.flush()
        audit.record(actor, "period.create", "period", period.id, name=name)
    return period


def move_period(name: str, target: str, actor: str = "system") -> Period:
    """Move a period to `target` (open / close / publish), refusing moves the workflow does not allow."""
    period = get_period(name)
    state = {"open": PeriodState.OPEN, "close": PeriodState.CLOSED, "publish": PeriodState.PUBLISHED}.get(
        target
    ) or PeriodState(target)
    before = period.state
    if state is PeriodState.PUBLISHED:
        period.move_to(state)  # refuse a wrong move before touching results
        from .scoring import publish_result

        publish_result(period, actor)
    else:
        period.move_to(state)
    audit.record(actor, "period.move", "period", period.id, before=before.value, after=state.value)
    return period


def list_periods():
    return db.session.execute(db.select(Period).order_by(Period.name.desc())).scalars().all()


class PeriodError(ValueError):
    """A period cannot be created as asked; the message is in Chinese (the console shows it as is)."""


def create_period(
    name: str, starts_on: date | None = None, ends_on: date | None = None, actor: str = "system"
) -> Period:
    """A new draft period (the console's 新建周期); dates default to the calendar year of a year-named period.

    Refuses a name already taken and an end before the start, with a Chinese message naming the field.
    """
    name = (name or "").strip()
    if not re.fullmatch(r"[\w\-]{1,32}", name):
        raise PeriodError("周期名称：请填写1-32个字母、数字或连字符，通常为年份，如 2027。")
    if db.session.execute(db.select(Period.id).filter_by(name=name)).first() is not None:
        raise PeriodError(f"周期名称：周期 {name} 已存在。")
    default_start, default_end = default_dates(name)
    starts_on = starts_on or default_start
    ends_on = ends_on or default_end
    if ends_on < starts_on:
        raise PeriodError("截止日期：不能早于开始日期。")
    period = Period(name=name, starts_on=starts_on, ends_on=ends_on, as_of=ends_on, state=PeriodState.DRAFT)
    db.session.add(period)
    db.session.flush()
    audit.record(actor, "period.create", "period", period.id, name=name, starts_on=str(starts_on), ends_on=str(ends_on))
    return period
