"""Working days (工作日): the holiday calendar the office edits, and deadlines counted in working days.

A day is a working day from Monday to Friday and a rest day on Saturday and Sunday, unless the calendar says
otherwise: public holidays (法定节假日) are rest days even on a weekday, adjusted working days (调休上班) are working
days even on a weekend. China has no daylight saving time, so China time is a fixed UTC+8.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import CalendarDay, Setting
from ..timefmt import CST
from . import audit

#: The setting that holds the bad-rating case deadline, in working days (5 in some cities, 15 in others).
CASE_DAYS_KEY = "case_working_days"
DEFAULT_CASE_DAYS = 5
MAX_CASE_DAYS = 60

#: China's 2026 public holidays and adjusted working days (国务院办公厅关于2026年部分节假日安排的通知), shipped as the
#: default calendar. The office should check them against the State Council notice and can edit them in the
#: console (工作日历); migration 0002 installs the same list.
HOLIDAYS_2026 = [
    (date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    (date(2026, 2, 15), date(2026, 2, 23), "春节"),
    (date(2026, 4, 4), date(2026, 4, 6), "清明节"),
    (date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    (date(2026, 6, 19), date(2026, 6, 21), "端午节"),
    (date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
    (date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
]
WORKDAYS_2026 = [
    (date(2026, 1, 4), "元旦调休上班"),
    (date(2026, 2, 14), "春节调休上班"),
    (date(2026, 2, 28), "春节调休上班"),
    (date(2026, 5, 9), "劳动节调休上班"),
    (date(2026, 9, 20), "国庆节调休上班"),
    (date(2026, 10, 10), "国庆节调休上班"),
]
#: The year the shipped calendar covers (the console opens it after installing the defaults).
DEFAULT_CALENDAR_YEAR = HOLIDAYS_2026[0][0].year


class CalendarError(ValueError):
    """A calendar or setting change the office cannot make; the message is in Chinese (console)."""


def china_date(moment: datetime) -> date:
    """The China date of an aware moment."""
    return moment.astimezone(CST).date()


def china_today(now: datetime | None = None) -> date:
    """Today in China."""
    return china_date(now or datetime.now(UTC))


def default_days() -> list[tuple[date, bool, str]]:
    """The shipped default calendar as (day, is_workday, name), holidays first."""
    days = []
    for first, last, name in HOLIDAYS_2026:
        for n in range((last - first).days + 1):
            days.append((first + timedelta(days=n), False, name))
    days.extend((day, True, name) for day, name in WORKDAYS_2026)
    return days


@dataclass(frozen=True)
class WorkCalendar:
    """The calendar's exceptions to the Monday-Friday week: {day: is_workday}."""

    exceptions: dict

    def is_workday(self, day: date) -> bool:
        """Whether `day` is a working day."""
        special = self.exceptions.get(day)
        if special is not None:
            return special
        return day.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself never counts; n = 0 gives start)."""
        day = start
        left = n
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day


_C, _S = CalendarDay.__table__, Setting.__table__


def load_calendar(start: date, end: date, connection=None) -> WorkCalendar:
    """The calendar between two dates (inclusive), read once for a batch of deadline computations (on
    `connection` when given, e.g. the API's transaction; else the session's)."""
    query = select(_C.c.day, _C.c.is_workday).where(_C.c.day.between(start, end))
    rows = (connection or db.session.connection()).execute(query).all()
    return WorkCalendar({day: bool(is_workday) for day, is_workday in rows})


def calendar_around(start: date, n: int, connection=None) -> WorkCalendar:
    """A calendar wide enough to count `n` working days from `start` (long holidays add at most ~10 days)."""
    return load_calendar(start, start + timedelta(days=2 * n + 40), connection)


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start`, by the office's calendar."""
    return calendar_around(start, n).add_workdays(start, n)


def case_working_days(connection=None) -> int:
    """The bad-rating case deadline in working days (setting `case_working_days`, default 5)."""
    query = select(_S.c.value).where(_S.c.key == CASE_DAYS_KEY)
    value = (connection or db.session.connection()).execute(query).scalar()
    if value is None:
        return DEFAULT_CASE_DAYS
    try:
        return int(value)
    except ValueError:
        return DEFAULT_CASE_DAYS


def set_case_working_days(n: int, actor: str) -> int:
    """Change the case deadline (1-60 working days); cases already opened keep their due date. Audited."""
    if not isinstance(n, int) or not 1 <= n <= MAX_CASE_DAYS:
        raise CalendarError(f"办理时限应为1至{MAX_CASE_DAYS}个工作日")
    setting = db.session.get(Setting, CASE_DAYS_KEY)
    before = None if setting is None else setting.value
    if setting is None:
        setting = Setting(key=CASE_DAYS_KEY, value=str(n), updated_by=actor)
        db.session.add(setting)
    else:
        setting.value = str(n)
        setting.updated_by = actor
        setting.updated_at = datetime.now(UTC)
    audit.record(actor, "setting.change", "setting", CASE_DAYS_KEY, before=before, after=str(n))
    db.session.flush()
    return n


def list_days(year: int | None = None) -> list[CalendarDay]:
    """The calendar's special days, of one year or all, in date order."""
    query = db.select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
    return list(db.session.execute(query).scalars())


def set_day(day: date, is_workday: bool, name: str, actor: str) -> CalendarDay:
    """Mark `day` as a holiday or an adjusted working day (replacing what was there). Audited."""
    name = (name or "").strip()[:50]
    row = db.session.execute(db.select(CalendarDay).filter_by(day=day)).scalar_one_or_none()
    before = None if row is None else {"is_workday": row.is_workday, "name": row.name}
    if row is None:
        row = CalendarDay(day=day, is_workday=is_workday, name=name, updated_by=actor)
        db.session.add(row)
    else:
        row.is_workday, row.name, row.updated_by = is_workday, name, actor
        row.updated_at = datetime.now(UTC)
    audit.record(
        actor,
        "calendar.set",
        "calendar_day",
        day.isoformat(),
        before=before,
        after={"is_workday": is_workday, "name": name},
    )
    db.session.flush()
    return row


def remove_day(day: date, actor: str) -> bool:
    """Return `day` to the usual Monday-Friday rule; False when it was not special. Audited."""
    row = db.session.execute(db.select(CalendarDay).filter_by(day=day)).scalar_one_or_none()
    if row is None:
        return False
    audit.record(
        actor,
        "calendar.remove",
        "calendar_day",
        day.isoformat(),
        before={"is_workday": row.is_workday, "name": row.name},
    )
    db.session.delete(row)
    db.session.flush()
    return True


def install_defaults(actor: str = "system") -> int:
    """Add the shipped default days that the calendar lacks (days the office edited are kept); returns how
    many.
    """
    present = set(db.session.execute(db.select(CalendarDay.day)).scalars())
    added = 0
    for day, is_workday, name in default_days():
        if day not in present:
            db.session.add(CalendarDay(day=day, is_workday=is_workday, name=name, updated_by=actor))
            added += 1
    if added:
        audit.record(actor, "calendar.defaults", "calendar_day", None, added=added)
    db.session.flush()
    return added
