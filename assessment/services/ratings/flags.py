"""Suspicion flags on public ratings: system defaults, window ratings at night, bursts of top ratings.

A flag never removes a rating: the console lists flagged ratings and the office decides (exclusions.py). The
ingest path flags what it stores as it stores it (a burst the new ratings are in, and the stored ratings it
takes in); `rescan_flags` flags a whole period again for ratings that escaped that (imported files, the demo
city, bursts posted concurrently by several workers). A single top rating that no burst can take in
(`burst_guard`) is stored without reading its neighbours, so a burst that escaped among them is left for the
rescan too.
"""

from collections import namedtuple
from datetime import timedelta

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)

from ...extensions import db
from ...models import Channel, Device, Period, PublicRating
from ...timefmt import CST, CST_HOURS
from ..bulk import CHUNK
from .connection import dialect_name, rows_on_driver, run, utc_of

#: A burst: at least RATING_BURST_MIN top ratings (level 5) from one device or staff code within
#: RATING_BURST_SECONDS (settings in create_app).
#: Window ratings (channel "window") between these China-time hours are flagged: the halls are closed.
ODD_HOURS = (0, 6)


def is_odd_hour(channel, rated_at) -> bool:
    """Is a rating of `channel` at `rated_at` (aware) in the odd hours: a window rating between ODD_HOURS,
    China time, when the halls are closed?"""
    return channel is Channel.WINDOW and ODD_HOURS[0] <= rated_at.astimezone(CST).hour < ODD_HOURS[1]


def odd_hours(channels, micros) -> list[bool]:
    """is_odd_hour of many ratings at once: channel codes (e.g. "window") and times in whole microseconds since
    1970 UTC, a column at a time (the import's records)."""
    hours = (np.asarray(micros, dtype=np.int64) // 3_600_000_000 + CST_HOURS) % 24
    odd = (np.asarray(channels, dtype=object) == Channel.WINDOW.value) & (hours >= ODD_HOURS[0])
    return (odd & (hours < ODD_HOURS[1])).tolist()


def flags_of(is_default: bool, odd_hour: bool) -> list[str] | None:
    """The flags a rating is stored with on arrival (None for none): "default" for a system default, "odd_hour"
    for a window rating in the odd hours (is_odd_hour). Bursts are added once known (flag_bursts)."""
    flags = (["default"] if is_default else []) + (["odd_hour"] if odd_hour else [])
    return flags or None


def is_flagged(flags) -> bool:
    """Is a rating with these flags suspected? Any flag but "default", which marks a rating without suspecting it."""
    return any(f != "default" for f in flags or ())


#: The flags a rating can carry, as the console names them.
FLAG_LABELS = {
    "default": "默认好评",
    "burst": "短时集中好评",
    "odd_hour": "非办公时段（0-6时）",
}

_R = PublicRating.__table__


def _is_top(rating) -> list:
    """A top rating in burst detection, as clauses on `rating` (public_ratings or an alias): level 5, not a
    system default."""
    return [rating.c.level == 5, rating.c.is_default.is_(False)]


_TOP = select(_R.c.id, _R.c.origin, _R.c.event_id, _R.c.unit_id, _R.c.staff_code, _R.c.rated_at).where(
    *_is_top(_R), _R.c.rated_at.between(bindparam("lo"), bindparam("hi"))
)
#: A top rating in burst detection: `key` is its id when stored, ("new", event_id) for one being posted.
TopRating = namedtuple("TopRating", "key origin event_id unit_id staff_code rated_at")
_BY_DEVICE = _TOP.where(_R.c.origin == bindparam("origin"))
_BY_STAFF = _TOP.where(_R.c.staff_code.in_(bindparam("staff", expanding=True)))
_BY_ONE_STAFF = _TOP.where(_R.c.staff_code == bindparam("one_staff"))  # the usual single rating: no IN list
#: Two arms, not an OR: each then searches its own index by key and time range (an OR would read every rating
#: of the device and of the staff member). A rating found by both arms is counted once
#: (see stored_neighbours).
#: Keyed by (device arm?, staff codes: 0, 1 or more).
_NEIGHBOURS = {
    (True, 0): _BY_DEVICE,
    (False, 1): _BY_ONE_STAFF,
    (False, 2): _BY_STAFF,
    (True, 1): union_all(_BY_DEVICE, _BY_ONE_STAFF),
    (True, 2): union_all(_BY_DEVICE, _BY_STAFF),
}
#: Adds a suspicion flag (odd_hour, burst), so the rating is flagged (`is_flagged`).
_ADD_FLAGS = update(_R).where(_R.c.id == bindparam("b_id")).values(flags=bindparam("b_flags"), flagged=True)
_SET_FLAGS = (
    update(_R).where(_R.c.id == bindparam("b_id")).values(flags=bindparam("b_flags"), flagged=bindparam("b_flagged"))
)
_FLAGS_OF = select(_R.c.id, _R.c.flags).where(_R.c.id.in_(bindparam("ids", expanding=True)))


def burst_settings() -> tuple[int, timedelta]:
    """(ratings that make a burst, the window they must fall in), from the app's settings."""
    config = current_app.config
    return (
        config["RATING_BURST_MIN"],
        timedelta(seconds=config["RATING_BURST_SECONDS"]),
    )


def _in_bursts(groups, need: int, window: timedelta) -> set:
    """Keys of the rows that lie in a run of `need` or more within `window`, per group (sliding window)."""
    marked = set()
    for members in groups.values():
        if len(members) < need:
            continue
        members.sort(key=lambda row: row.rated_at)
        start = 0
        for end in range(len(members)):
            while members[end].rated_at - members[start].rated_at > window:
                start += 1
            if end - start + 1 >= need:
                marked.update(row.key for row in members[start : end + 1])
    return marked


def flag_bursts(marked: set) -> int:
    """Add the burst flag to the stored ratings with these ids that lack it; returns how many got it."""
    if not marked:
        return 0
    flags = {}
    ids = sorted(marked)
    for start in range(0, len(ids), CHUNK):
        flags.update(run(_FLAGS_OF, {"ids": ids[start : start + CHUNK]}).all())
    changes = [
        {"b_id": rid, "b_flags": (flags.get(rid) or []) + ["burst"]}
        for rid in ids
        if "burst" not in (flags.get(rid) or [])
    ]
    if changes:
        run(_ADD_FLAGS, changes)
    return len(changes)


def stored_neighbours(top: list[dict], burst_origin: str | None, window: timedelta) -> list:
    """Stored top ratings near the new ones in time, of the same device (when it is one) or staff codes."""
    staff = sorted({row["staff_code"] for row in top if row["staff_code"]})
    if burst_origin is None and not staff:
        return []
    times = [row["rated_at"] for row in top]
    params = {
        "lo": min(times) - window,
        "hi": max(times) + window,
        "origin": burst_origin,
        "staff": staff,
        "one_staff": staff[0] if staff else None,
    }
    shape = (burst_origin is not None, min(len(staff), 2))
    query = _NEIGHBOURS[shape]
    if shape[1] < 2:  # a single rating's read (no IN list): on the driver
        found = {row[0]: (*row[:5], utc_of(row[5])) for row in rows_on_driver(query, params)}
    else:
        found = {row[0]: row for row in run(query, params)}
    return [TopRating(*row) for row in found.values()]


def _guard_arm(rating, arm: str) -> list:
    """The top ratings of one burst group (`_in_bursts`) as a filter on `rating` (public_ratings): the
    device's ("device") or the unit's staff code's ("staff")."""
    clauses = _is_top(rating)
    if arm == "device":
        return clauses + [rating.c.origin == bindparam("g_origin")]
    return clauses + [rating.c.staff_code == bindparam("g_staff"), rating.c.unit_id == bindparam("g_unit")]


def _window_after(moment, dialect: str):
    """`moment` (a stored rated_at) plus the burst window, comparable with stored times in SQL: on SQLite the
    stored UTC text "YYYY-MM-DD HH:MM:SS.ffffff" with the whole seconds of :g_window ("+120 seconds") added to
    its first 19 characters (exact: datetime() counts whole milliseconds) and its fraction kept; on PostgreSQL
    :g_window microseconds as an interval of hours, minutes and seconds only (a "1 day" interval would follow
    daylight saving in the session's time zone)."""
    if dialect == "sqlite":
        return func.datetime(func.substr(moment, 1, 19), bindparam("g_window")).concat(func.substr(moment, 20))
    return moment + bindparam("g_window", type_=BigInteger()) * literal_column("interval '1 microsecond'")


def burst_guard(dialect: str, arms: tuple[str, ...]):
    """`_in_bursts` for one new top rating at :g_t, as a SQL condition: true when `need` (:g_more + 1) or more
    top ratings of one of its groups (`arms`: "device", "staff"), stored ones and it, fall within one window.

    The single rating's insert carries its negation (insert.insert_one), so that the read of its neighbours
    (stored_neighbours) is needed only when a burst may take it in. The stored top ratings of each group from
    :g_lo to :g_hi (:g_t minus and plus the window) are read once (a common table expression: one range scan of
    the group's (key, rated_at) index, with bounds that PostgreSQL's generic plan can see). Any window with
    `need` members that holds the new rating can be moved to start at its earliest member: either a stored
    rating at or before :g_t, whose window to its own time plus the window then holds :g_more stored ones
    (itself included, the new one being inside it), or the new rating itself, with :g_more stored ones from
    :g_t on. Bounds are inclusive, as in `_in_bursts`. A rating already stored with the same event id is
    counted among the stored ones; its insert is skipped anyway (ON CONFLICT), and whatever the guard stopped is
    decided again with the read (tests/api/test_burst_guard.py checks that the two agree).

    Only the new rating's bursts are looked for: a burst among stored ratings alone that escaped its own
    flagging (module docstring) is not flagged by a rating the guard let in; the read did that by the way.
    """
    found = []
    for arm in arms:
        near = (
            select(_R.c.rated_at.label("at"))
            .where(*_guard_arm(_R, arm), _R.c.rated_at.between(bindparam("g_lo"), bindparam("g_hi")))
            .cte(f"g_{arm}")
        )
        start, other = near.alias(f"g_{arm}_start"), near.alias(f"g_{arm}_other")
        in_window_of_start = (
            select(func.count())
            .select_from(other)
            .where(other.c.at.between(start.c.at, _window_after(start.c.at, dialect)))
            .scalar_subquery()
        )
        found.append(
            exists().select_from(start).where(start.c.at <= bindparam("g_t"), in_window_of_start >= bindparam("g_more"))
        )
        from_new = select(func.count()).select_from(other).where(other.c.at >= bindparam("g_t")).scalar_subquery()
        found.append(from_new >= bindparam("g_more"))
    return or_(*found)


def guard_for(row: dict, burst_origin: str | None, need: int, window: timedelta, dialect: str) -> tuple | None:
    """(arms, values) of `burst_guard` for the new top rating `row`: its burst groups (`_in_bursts`: its
    device's, unless it comes from an integration, burst_origin None; its unit's staff code's when it has one)
    and the values the guard binds. None where a guard would not save the read of its neighbours
    (stored_neighbours), which then decides as before: no group to be in; a burst of one (every top rating is
    in one); a window that is not whole seconds, on SQLite."""
    arms = (("device",) if burst_origin is not None else ()) + (("staff",) if row["staff_code"] else ())
    if not arms or need <= 1:
        return None
    if dialect == "sqlite":
        if window % timedelta(seconds=1):
            return None
        span = f"+{window // timedelta(seconds=1)} seconds"
    else:
        span = window // timedelta(microseconds=1)
    at = row["rated_at"]
    values = {
        "g_origin": burst_origin,
        "g_staff": row["staff_code"],
        "g_unit": row["unit_id"],
        "g_t": at,
        "g_lo": at - window,
        "g_hi": at + window,
        "g_more": need - 1,
        "g_window": span,
    }
    return arms, values


def set_flags(changes: list[dict]) -> None:
    """Replace the flags of stored ratings: rows of {"b_id", "b_flags", "b_flagged"} (one executemany)."""
    run(_SET_FLAGS, changes)


def bursts_among(
    top: list[dict], neighbours: list, origin: str, burst_origin: str | None, need: int, window: timedelta
) -> set:
    """Which new (("new", event_id)) and stored (id) top ratings are in a burst: `need` or more within
    `window` from one device (burst_origin; None for an integration, whose ratings come from many people) or
    one staff code of a unit. A new rating already stored (a retry) is counted once, as the stored one."""
    stored = {(n.origin, n.event_id) for n in neighbours}
    staff = {(row["unit_id"], row["staff_code"]) for row in top if row["staff_code"]}
    rows = list(neighbours) + [
        TopRating(("new", row["event_id"]), origin, row["event_id"], row["unit_id"], row["staff_code"], row["rated_at"])
        for row in top
        if (origin, row["event_id"]) not in stored
    ]
    groups = {}
    for row in rows:
        if burst_origin is not None and row.origin == burst_origin:
            groups.setdefault(("d", burst_origin), []).append(row)
        if row.staff_code and (row.unit_id, row.staff_code) in staff:
            groups.setdefault(("s", row.unit_id, row.staff_code), []).append(row)
    return _in_bursts(groups, need, window)


def rescan_flags(period: Period) -> dict:
    """Flag a whole period again: window ratings at impossible hours and bursts of top ratings.

    For ratings that escaped the checks at arrival: imported files, the demo city, bursts posted concurrently.
    Flags are only ever added (the office may have excluded or kept a rating after looking at it); returns the
    number of ratings newly flagged, by flag. Reads only the window ratings whose UTC hour can be an odd China
    hour, and the top ratings that can be in a burst.
    """
    rows = run(
        select(_R.c.id, _R.c.rated_at, _R.c.flags).where(
            _R.c.period_id == period.id, _R.c.channel == Channel.WINDOW, _utc_hour_in(_ODD_UTC_HOURS)
        )
    ).all()
    changes = [
        {"b_id": row.id, "b_flags": (row.flags or []) + ["odd_hour"]}
        for row in rows
        if is_odd_hour(Channel.WINDOW, row.rated_at) and "odd_hour" not in (row.flags or [])
    ]
    if changes:
        run(_ADD_FLAGS, changes)
    return {"odd_hour": len(changes), "burst": rescan_bursts(period)}


#: The UTC hours of the odd China hours (China time has no daylight saving: a fixed offset).
_ODD_UTC_HOURS = sorted({(hour - CST_HOURS) % 24 for hour in range(*ODD_HOURS)})


def _utc_hour_in(hours):
    """rated_at's UTC hour is one of `hours` (a prefilter: the rows found are checked again in Python)."""
    if dialect_name() == "sqlite":  # stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC
        return func.substr(_R.c.rated_at, 12, 2).in_([f"{h:02d}" for h in hours])
    return func.extract("hour", func.timezone("UTC", _R.c.rated_at)).in_(hours)


def rescan_bursts(period: Period) -> int:
    """Look for bursts again over a whole period; returns how many ratings were newly flagged.

    The groups are those of `_in_bursts` (a device's top ratings, integrations aside; a unit's staff code's),
    each swept a whole column at a time (numpy): a rating is in a burst when `need` or more of its group's fall
    within `window` ending at one of them. Only ratings that can be in a group are read.
    """
    need, window = burst_settings()
    integrations = _integration_origins()
    at = _R.c.rated_at
    if dialect_name() == "sqlite":
        at = type_coerce(at, String)  # the stored UTC text, read as times below in one go
    found = run(
        select(_R.c.id, _R.c.origin, _R.c.unit_id, _R.c.staff_code, at).where(
            _R.c.period_id == period.id,
            *_is_top(_R),
            or_(_R.c.origin.like("d%"), _R.c.staff_code.is_not(None)),
        )
    ).all()
    if len(found) < need:
        return 0
    ids, origins, units, staff, times = zip(*found, strict=True)
    ids = np.array(ids, dtype=np.int64)
    times = pd.to_datetime(pd.Series(times), utc=True, format="ISO8601").to_numpy("datetime64[us]").astype(np.int64)
    origins = pd.Series(origins, dtype=object)
    staff = pd.Series(staff, dtype=object)
    device = (origins.str.startswith("d") & ~origins.isin(integrations)).to_numpy()
    by_staff = (staff.notna() & (staff != "")).to_numpy()
    groups = [
        (ids[device], times[device], origins[device].to_numpy()),
        (
            ids[by_staff],
            times[by_staff],
            pd.Series(units)[by_staff].astype(str).to_numpy() + "|" + staff[by_staff].to_numpy(),
        ),
    ]
    marked = set()
    span = window // timedelta(microseconds=1)
    for member_ids, member_times, keys in groups:
        if not len(member_ids):
            continue
        codes = pd.factorize(keys)[0]
        order = np.lexsort((member_times, codes))
        codes, member_times, member_ids = codes[order], member_times[order], member_ids[order]
        bounds = np.flatnonzero(np.diff(codes)) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(codes)], strict=True):
            if hi - lo < need:
                continue
            t = member_times[lo:hi]
            first = np.searchsorted(t, t - span, side="left")  # the earliest rating within `window` of each
            ends = np.flatnonzero(np.arange(len(t)) - first + 1 >= need)
            if not len(ends):
                continue
            cover = np.zeros(len(t) + 1, dtype=np.int64)
            np.add.at(cover, first[ends], 1)
            np.add.at(cover, ends + 1, -1)
            marked.update(member_ids[lo:hi][np.cumsum(cover[:-1]) > 0].tolist())
    return flag_bursts(marked)


def _integration_origins() -> set:
    ids = db.session.execute(select(Device.id).where(Device.is_integration.is_(True))).scalars()
    return {f"d{i}" for i in ids}
