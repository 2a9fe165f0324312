"""Figures of public ratings for the console: counts, good rates with Wilson intervals, months, units, the
list of flagged ratings. Read-only.
"""

import math
from datetime import date, datetime

from sqlalchemy import and_, case, func, select

from scoring.wilson import wilson_bounds

from ...extensions import db
from ...models import Channel, Period, PeriodState, PublicRating, Unit
from ...timefmt import CST


def wilson_interval(good: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval (0-1) of the proportion good/n at normal quantile z (95% by default), clipped to
    [0, 1]; None if n = 0. The formula is the engine's (scoring.wilson), so the console and the scores agree.
    """
    if n <= 0:
        return None
    low, high = wilson_bounds(good, n, z)
    return max(0.0, float(low)), min(1.0, float(high))


def default_period() -> Period | None:
    """The period the console shows first: the open one, else the newest."""
    query = select(Period).order_by(Period.starts_on.desc(), Period.id.desc())
    periods = db.session.execute(query).scalars().all()
    for period in periods:
        if period.state is PeriodState.OPEN:
            return period
    return periods[0] if periods else None


def _scope(query, period_id, unit_id):
    query = query.where(PublicRating.period_id == period_id)
    if unit_id is not None:
        query = query.where(PublicRating.unit_id == unit_id)
    return query


def summary(period: Period, unit_id: int | None = None) -> dict:
    """Counts by level and channel, the good rate (levels 4-5 among counted ratings) with its 95% Wilson
    interval.

    Counted ratings are those not excluded and not system defaults (默认好评: kept, shown apart, not scored).
    Returns {"levels": {level: {channel: n}}, "channels": [...], "counted", "good", "bad", "defaults",
    "excluded", "flagged", "good_rate", "interval"}.
    """
    query = _scope(
        select(
            PublicRating.level,
            PublicRating.channel,
            PublicRating.is_default,
            PublicRating.excluded,
            PublicRating.flagged,
            func.count(),
        ).group_by(
            PublicRating.level,
            PublicRating.channel,
            PublicRating.is_default,
            PublicRating.excluded,
            PublicRating.flagged,
        ),
        period.id,
        unit_id,
    )
    levels = {lv: {} for lv in range(5, 0, -1)}
    out = {"counted": 0, "good": 0, "bad": 0, "defaults": 0, "excluded": 0, "flagged": 0, "total": 0}
    channels = set()
    for level, channel, is_default, excluded, flagged, n in db.session.execute(query):
        out["total"] += n
        if flagged:
            out["flagged"] += n
        if excluded:
            out["excluded"] += n
            continue
        if is_default:
            out["defaults"] += n
            continue
        channels.add(channel)
        levels[level][channel] = levels[level].get(channel, 0) + n
        out["counted"] += n
        out["good"] += n if level >= 4 else 0
        out["bad"] += n if level <= 2 else 0
    out["levels"] = levels
    out["channels"] = [c for c in Channel if c in channels]
    out["channel_totals"] = {c: sum(levels[lv].get(c, 0) for lv in levels) for c in out["channels"]}
    out["level_totals"] = {lv: sum(levels[lv].values()) for lv in levels}
    out["good_rate"] = out["good"] / out["counted"] if out["counted"] else None
    out["interval"] = wilson_interval(out["good"], out["counted"])
    return out


def _month_starts(period: Period) -> list[date]:
    months = []
    day = date(period.starts_on.year, period.starts_on.month, 1)
    while day <= period.ends_on:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def monthly_trend(period: Period, unit_id: int | None = None) -> list[dict]:
    """Per month of the period (China time): counted ratings, good and bad ones, good rate and Wilson
    interval.
    """
    months = _month_starts(period)
    bounds = [datetime(m.year, m.month, 1, tzinfo=CST) for m in months[1:]]
    bucket = case(*[(PublicRating.rated_at < b, i) for i, b in enumerate(bounds)], else_=len(bounds))
    query = _scope(
        select(
            bucket.label("m"),
            func.count(),
            func.sum(case((PublicRating.level >= 4, 1), else_=0)),
            func.sum(case((PublicRating.level <= 2, 1), else_=0)),
        )
        .where(PublicRating.excluded.is_(False), PublicRating.is_default.is_(False))
        .group_by(bucket),
        period.id,
        unit_id,
    )
    counts = {m: (n, good or 0, bad or 0) for m, n, good, bad in db.session.execute(query)}
    series = []
    for i, month in enumerate(months):
        n, good, bad = counts.get(i, (0, 0, 0))
        series.append(
            {
                "month": month,
                "n": n,
                "good": good,
                "bad": bad,
                "rate": good / n if n else None,
                "interval": wilson_interval(good, n),
            }
        )
    return series


def unit_table(period: Period) -> list[dict]:
    """One row per unit with ratings in the period: counted, good rate and interval, bad, defaults, flagged,
    excluded; ordered by the lower bound of the interval (weakest evidence of good service first)."""
    scored = and_(PublicRating.excluded.is_(False), PublicRating.is_default.is_(False))

    def n(condition):
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            PublicRating.unit_id,
            func.count(),
            n(scored),
            n(and_(scored, PublicRating.level >= 4)),
            n(and_(scored, PublicRating.level <= 2)),
            n(PublicRating.is_default.is_(True)),
            n(PublicRating.flagged.is_(True)),
            n(PublicRating.excluded.is_(True)),
        )
        .where(PublicRating.period_id == period.id)
        .group_by(PublicRating.unit_id)
    )
    units = {u.id: u for u in db.session.execute(select(Unit)).scalars()}
    rows = []
    for unit_id, total, counted, good, bad, defaults, flagged, excluded in db.session.execute(query):
        interval = wilson_interval(good or 0, counted or 0)
        rows.append(
            {
                "unit": units[unit_id],
                "total": total,
                "counted": counted or 0,
                "good": good or 0,
                "bad": bad or 0,
                "defaults": defaults or 0,
                "flagged": flagged or 0,
                "excluded": excluded or 0,
                "good_rate": (good / counted) if counted else None,
                "interval": interval,
            }
        )
    rows.sort(key=lambda r: (r["interval"][0] if r["interval"] else 2.0, r["unit"].code))
    return rows


def flagged_ratings(
    period: Period,
    unit_id: int | None = None,
    flag: str | None = None,
    show: str = "open",
    page: int = 1,
    per_page: int = 50,
):
    """Suspicious ratings of a period for the office to review (newest first), as a Flask-SQLAlchemy page.

    `show` is "open" (still counted), "excluded" (every rating the office excluded, flagged or not) or "all";
    `flag` narrows to one flag (default: any suspicion flag; "default" lists the system-default ratings instead).
    """
    query = select(PublicRating).where(PublicRating.period_id == period.id)
    if unit_id is not None:
        query = query.where(PublicRating.unit_id == unit_id)
    if flag == "default":
        query = query.where(PublicRating.is_default.is_(True))
    elif show != "excluded" or flag:
        # Every rating the office excluded is listed with its reason, whether or not the system flagged it.
        query = query.where(PublicRating.flagged.is_(True))
    if show == "open":
        query = query.where(PublicRating.excluded.is_(False))
    elif show == "excluded":
        query = query.where(PublicRating.excluded.is_(True))
    query = query.order_by(PublicRating.rated_at.desc(), PublicRating.id.desc())
    if flag and flag != "default":
        # Flags are few per rating; filtering in Python keeps the JSON column portable across engines.
        items = [r for r in db.session.execute(query).scalars() if flag in (r.flags or [])]
        return _ListPage(items, page, per_page)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


class _ListPage:
    """The few attributes of a Flask-SQLAlchemy pagination the templates use, over a list."""

    def __init__(self, items, page, per_page):
        self.total = len(items)
        self.page = max(1, page)
        self.per_page = per_page
        self.pages = max(1, math.ceil(self.total / per_page))
        start = (self.page - 1) * per_page
        self.items = items[start : start + per_page]
        self.has_prev = self.page > 1
        self.has_next = self.page < self.pages
        self.prev_num = self.page - 1
        self.next_num = self.page + 1
