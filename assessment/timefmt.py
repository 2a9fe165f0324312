"""China time for people: every stored moment is UTC; whatever a person reads is shown in UTC+8 (北京时间)."""

from datetime import UTC, date, datetime, timedelta, timezone

#: China Standard Time, UTC+8 (no daylight saving).
CST = timezone(timedelta(hours=8), "CST")
#: China time's fixed offset from UTC (no daylight saving), for code that works on whole columns of numbers.
CST_HOURS = CST.utcoffset(None) // timedelta(hours=1)
CST_MICROSECONDS = CST.utcoffset(None) // timedelta(microseconds=1)


def china_time(moment: datetime | None) -> datetime | None:
    """A stored moment as China time; a naive value is taken as UTC (how the database keeps it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CST)


def format_cst(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M", empty: str = "—") -> str:
    """A stored moment written in China time, e.g. ``2026-03-01 08:30``; ``empty`` when there is none."""
    local = china_time(moment)
    return empty if local is None else local.strftime(fmt)


def zh_date(day: date | None, empty: str = "—") -> str:
    """A calendar date as people write it in Chinese: 2026年12月31日 (no leading zeros)."""
    if day is None:
        return empty
    return f"{day.year}年{day.month}月{day.day}日"
