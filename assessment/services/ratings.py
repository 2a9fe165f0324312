"""Public ratings (好差评): what devices and integrations post, the suspicion flags, exclusion, and the figures.

Exactly once is the database's job: UNIQUE(origin, event_id) (origin "d<device id>") and UNIQUE(case_no,
stage). A batch is inserted with one bulk INSERT … ON CONFLICT DO NOTHING RETURNING; the rows it skipped are
then told apart by reading what is stored: same content hash → duplicate, other content → conflict, no such
event → the case number was taken (rejected). Level 1-2 ratings open their bad-rating case in the same
transaction.
"""

import hashlib
import json
import math
import os
import re
import threading
import time
from collections import namedtuple
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

try:
    import fcntl
except ImportError:  # not on Unix: the threads of each process still take turns
    fcntl = None

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    event,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import Channel, Device, Period, PeriodState, PublicRating, Unit
from ..models.base import UTCDateTime
from . import audit
from .devices import DeviceAuth
from .workdays import CST

#: Ratings dated later than the server's clock by more than this are refused (devices' clocks drift).
DEFAULT_CLOCK_SKEW = 300
#: A burst: at least BURST_MIN top ratings (level 5) from one device or one staff code within BURST_SECONDS.
DEFAULT_BURST_MIN = 5
DEFAULT_BURST_SECONDS = 120
#: Window ratings (channel "window") between these China-time hours are flagged: the halls are closed.
ODD_HOURS = (0, 6)

#: Longest accepted text per field (characters); the columns are at least this long.
TEXT_LIMITS = {
    "case_no": 64, "stage": 32, "service_item": 200, "staff_code": 64, "comment": 1000, "unit_code": 32,
}
EVENT_ID_MAX = 64

#: Why a rating was rejected: code -> English explanation (the API answers code and message).
REASONS = {
    "future": "rated_at is later than the server's clock (check the device clock)",
    "out_of_range": "rated_at is outside the dates the platform can store",
    "no_period": "no evaluation period covers the day of rated_at",
    "period_not_open": "the evaluation period of rated_at is not open for ratings",
    "unit_required": "an integration key must name unit_code",
    "unknown_unit": "unit_code names no unit",
    "unit_inactive": "the unit is no longer evaluated",
    "unit_not_allowed": "this device key belongs to another unit",
    "channel_not_allowed": "this device key belongs to another channel",
    "case_taken": "the case (case_no, stage) already has a rating; one rating per case and stage",
}

FLAG_LABELS = {
    "default": "默认好评",
    "burst": "短时集中好评",
    "odd_hour": "非办公时段（0-6时）",
}


class BodyError(ValueError):
    """The body is not JSON or not of the documented shape (400); `field` names where (ratings[3].level)."""

    def __init__(self, field, message, code="invalid_body"):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.code = code
        self.message = f"{field}: {message}" if field else message


class TooManyRatings(ValueError):
    """A batch over the limit (413)."""

    def __init__(self, n, limit):
        super().__init__(f"a batch holds at most {limit} ratings; this one holds {n}")
        self.n, self.limit = n, limit


# --- parsing ----------------------------------------------------------------------------------------------

_MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date-time with a UTC offset, as an aware UTC datetime; None when it cannot be stored.

    Raises ValueError with a short reason when the text is not such a date-time (no offset included).
    """
    try:
        moment = datetime.fromisoformat(text)  # the fast path for what devices usually send
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None and "T" in text[:11].upper():
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError:
            return None
    match = _MOMENT.fullmatch(text.strip())
    if match is None:
        raise ValueError("must be an ISO 8601 date-time with an offset, e.g. 2026-03-01T09:30:00+08:00")
    y, mo, d, h, mi, s, frac, zulu, sign, oh, om = match.groups()
    if not zulu and not sign:
        raise ValueError("must have a UTC offset (e.g. +08:00 or Z)")
    offset = timedelta(0) if zulu else timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    if abs(offset) >= timedelta(hours=24) or (not zulu and int(om) >= 60):
        raise ValueError("has an impossible UTC offset")
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(s or 0), 59), micro,
                         tzinfo=timezone(offset))
    except ValueError as exc:
        raise ValueError("is not a valid date and time") from exc
    try:
        return local.astimezone(timezone.utc)
    except OverflowError:
        return None


def _check_text(value: str, field: str, control=_CONTROL) -> None:
    """Refuse control characters and lone surrogates (which cannot be stored as UTF-8)."""
    if control.search(value):
        raise BodyError(field, "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BodyError(field, "is not valid Unicode text") from exc


def _text(obj, name, where, limit, control=_CONTROL):
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BodyError(f"{where}{name}", "must be a string")
    if len(value) > limit:
        raise BodyError(f"{where}{name}", f"must be at most {limit} characters")
    _check_text(value, f"{where}{name}", control)
    value = value.strip()
    return value or None


def _flag(obj, name, where):
    value = obj.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise BodyError(f"{where}{name}", "must be true or false")


def _parse_item(obj, where):
    if not isinstance(obj, dict):
        raise BodyError(where.rstrip(".") or "body", "must be a rating object")
    event_id = obj.get("event_id")
    if not isinstance(event_id, str):
        raise BodyError(f"{where}event_id", "is required and must be a string")
    if not 1 <= len(event_id) <= EVENT_ID_MAX:
        raise BodyError(f"{where}event_id", f"must be 1-{EVENT_ID_MAX} characters")
    _check_text(event_id, f"{where}event_id")
    level = obj.get("level")
    if type(level) is float and level.is_integer():
        level = int(level)  # JSON Schema counts 5.0 as an integer, and so do we
    if type(level) is not int or not 1 <= level <= 5:
        raise BodyError(f"{where}level", "is required and must be an integer 1-5")
    rated_text = obj.get("rated_at")
    if not isinstance(rated_text, str):
        raise BodyError(f"{where}rated_at", "is required and must be an ISO 8601 string with an offset")
    try:
        rated_at = parse_moment(rated_text)
    except ValueError as exc:
        raise BodyError(f"{where}rated_at", str(exc)) from None
    channel = obj.get("channel")
    if channel is not None:
        try:
            channel = Channel(channel)
        except (ValueError, TypeError):
            choices = ", ".join(c.value for c in Channel)
            raise BodyError(f"{where}channel", f"must be one of {choices}") from None
    return {
        "event_id": event_id,
        "raw_code": level,
        "rated_at": rated_at,
        "case_no": _text(obj, "case_no", where, TEXT_LIMITS["case_no"]),
        "stage": _text(obj, "stage", where, TEXT_LIMITS["stage"]) or "",
        "service_item": _text(obj, "service_item", where, TEXT_LIMITS["service_item"]),
        "staff_code": _text(obj, "staff_code", where, TEXT_LIMITS["staff_code"]),
        "comment": _text(obj, "comment", where, TEXT_LIMITS["comment"], _CONTROL_IN_TEXT),
        "unit_code": _text(obj, "unit_code", where, TEXT_LIMITS["unit_code"]),
        "channel": channel,
        "is_default": bool(_flag(obj, "is_default", where)),
        "real_name": _flag(obj, "real_name", where),
    }


def parse_body(raw: bytes, limit: int) -> list[dict]:
    """The ratings of a request body: one rating object or {"ratings": [...]} with at most `limit`.

    Raises BodyError (400) naming the field and index of the first problem, TooManyRatings (413) over the
    limit. Unknown fields are ignored, so that firmware may send more than the platform keeps.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BodyError(None, "the body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise BodyError(None, 'the body must be a rating object or {"ratings": [...]}')
    if "ratings" in data:
        items = data["ratings"]
        if not isinstance(items, list):
            raise BodyError("ratings", "must be an array of rating objects")
        if len(items) > limit:
            raise TooManyRatings(len(items), limit)
        return [_parse_item(item, f"ratings[{i}].") for i, item in enumerate(items)]
    return [_parse_item(data, "")]


# --- storing ----------------------------------------------------------------------------------------------


def content_hash(event_id, unit_code, level, channel, rated_at, case_no=None, service_item=None,
                 staff_code=None, comment=None, is_default=False, stage="", real_name=None) -> str:
    """sha256 of a rating's canonical text, to tell a duplicate retry from a reuse of an event id (conflict).

    The fields joined by "|", rated_at in UTC ISO 8601 (so +08:00 and Z spellings of one moment agree); stage
    and an explicit real_name are appended only when given, so the text matches the demo city's.
    """
    text = "|".join((
        event_id, unit_code or "", str(level), channel, rated_at.astimezone(timezone.utc).isoformat(),
        case_no or "", service_item or "", staff_code or "", comment or "", "1" if is_default else "0",
    ))
    if stage:
        text += "|stage=" + stage
    if real_name is not None:
        text += "|real_name=" + ("1" if real_name else "0")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The ingest path runs for every request of every device: its statements are built once, as Core statements
# with bound parameters, and run on the session's connection (no ORM objects, one compiled form each).
_R = PublicRating.__table__
_D = Device.__table__
_P = Period.__table__
_U = Unit.__table__
_PERIODS = select(_P.c.id, _P.c.name, _P.c.starts_on, _P.c.ends_on, _P.c.state)
_UNITS = select(_U.c.id, _U.c.code, _U.c.active).where(_U.c.code.in_(bindparam("codes", expanding=True)))
_STORED = select(_R.c.event_id, _R.c.content_hash).where(
    _R.c.origin == bindparam("origin"), _R.c.event_id.in_(bindparam("events", expanding=True))
)
_COUNTERS = {
    "last_seen_at": bindparam("now"),
    "n_accepted": _D.c.n_accepted + bindparam("accepted"),
    "n_duplicate": _D.c.n_duplicate + bindparam("duplicate"),
    "n_conflict": _D.c.n_conflict + bindparam("conflict"),
    "n_rejected": _D.c.n_rejected + bindparam("rejected"),
}
_TOUCH = update(_D).where(_D.c.id == bindparam("device")).values(**_COUNTERS)
_TOUCH_ERROR = update(_D).where(_D.c.id == bindparam("device")).values(
    **_COUNTERS, last_error=bindparam("error"), last_error_at=bindparam("now")
)
_TOP = select(_R.c.id, _R.c.origin, _R.c.event_id, _R.c.unit_id, _R.c.staff_code, _R.c.rated_at).where(
    _R.c.level == 5, _R.c.is_default.is_(False), _R.c.rated_at.between(bindparam("lo"), bindparam("hi")),
)
#: A top rating in burst detection: `key` is its id when stored, ("new", event_id) for one being posted.
_Top = namedtuple("_Top", "key origin event_id unit_id staff_code rated_at")
_BY_DEVICE = _TOP.where(_R.c.origin == bindparam("origin"))
_BY_STAFF = _TOP.where(_R.c.staff_code.in_(bindparam("staff", expanding=True)))
_BY_ONE_STAFF = _TOP.where(_R.c.staff_code == bindparam("one_staff"))  # the usual single rating: no IN list
#: Two arms, not an OR: each then searches its own index by key and time range (an OR would read every rating
#: of the device and of the staff member). A rating found by both arms is counted once (see _neighbours).
#: Keyed by (device arm?, staff codes: 0, 1 or more).
_NEIGHBOURS = {
    (True, 0): _BY_DEVICE, (False, 1): _BY_ONE_STAFF, (False, 2): _BY_STAFF,
    (True, 1): union_all(_BY_DEVICE, _BY_ONE_STAFF), (True, 2): union_all(_BY_DEVICE, _BY_STAFF),
}
_ADD_FLAGS = update(_R).where(_R.c.id == bindparam("b_id")).values(flags=bindparam("b_flags"), flagged=True)
_SET_FLAGS = update(_R).where(_R.c.id == bindparam("b_id")).values(flags=bindparam("b_flags"),
                                                                     flagged=bindparam("b_flagged"))
_FLAGS_OF = select(_R.c.id, _R.c.flags).where(_R.c.id.in_(bindparam("ids", expanding=True)))
_INSERTS = {}
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def _plain_type(column_type, dialect_name):
    """The type a VALUES insert binds a column with: the driver-level value the row already holds."""
    if isinstance(column_type, SAEnum):
        return String()
    if dialect_name != "sqlite":
        if isinstance(column_type, UTCDateTime):
            return DateTime(timezone=True)
        return JSON(none_as_null=True) if isinstance(column_type, JSON) else column_type
    if isinstance(column_type, UTCDateTime):
        return String()
    if isinstance(column_type, JSON):
        return Text()
    if isinstance(column_type, Boolean):
        return Integer()
    return column_type


def _array_of(column_type):
    """The PostgreSQL array type the batch insert sends a column as (JSON goes as text and is cast back)."""
    if isinstance(column_type, UTCDateTime):
        return postgresql.ARRAY(DateTime(timezone=True))
    if isinstance(column_type, Boolean):
        return postgresql.ARRAY(Boolean())
    if isinstance(column_type, (Integer, SmallInteger)):
        return postgresql.ARRAY(Integer())
    return postgresql.ARRAY(Text())


_INSERTED = [c.name for c in _R.c if c.name != "id"]


def _unnest(column):
    return func.unnest(bindparam(column.name, type_=_array_of(column.type)))


#: Below this many rows PostgreSQL gets a plain VALUES insert (short enough for the driver to keep parsed).
_PG_UNNEST_FROM = 20


def _insert_ratings(n_rows: int = 1):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, event_id, in the engine's dialect (SQLite ≥ 3.35,
    PostgreSQL).

    Built once per dialect so that a batch costs little per row: on SQLite an executemany whose rows
    `_insert_params` has already converted to driver values (UTC text times, enum values, JSON text); on
    PostgreSQL one statement that inserts from unnest() of one array per column (a 1000-row VALUES list would
    be re-parsed by the driver on every batch).
    """
    name = _dialect_name()
    if name == "postgresql" and n_rows < _PG_UNNEST_FROM:
        name = "postgresql-values"
    statement = _INSERTS.get(name)
    if statement is None:
        if name == "postgresql":
            source = select(*(
                cast(_unnest(c), JSON) if isinstance(c.type, JSON) else _unnest(c)
                for c in _R.c if c.name != "id"
            ))
            statement = postgresql.insert(_R).from_select(_INSERTED, source)
            returning = (_R.c.id, _R.c.event_id)
        else:
            table = Table(_R.name, MetaData(), *(
                Column(c.name, _plain_type(c.type, name), primary_key=c.primary_key) for c in _R.c
            ))
            statement = (sqlite.insert if name == "sqlite" else postgresql.insert)(table)
            returning = (table.c.id, table.c.event_id)
        statement = _INSERTS[name] = statement.on_conflict_do_nothing().returning(*returning)
    return statement


def _insert_params(rows: list[dict], now: datetime):
    """The rows as `_insert_ratings` binds them: driver-level rows (SQLite), arrays by column (PostgreSQL)."""
    if _dialect_name() == "sqlite":
        received = now.astimezone(timezone.utc).strftime(_SQLITE_TIME)
        return [
            {**row, "rated_at": row["rated_at"].astimezone(timezone.utc).strftime(_SQLITE_TIME),
             "received_at": received, "code_system": row["code_system"].value,
             "channel": row["channel"].value, "flags": json.dumps(row["flags"]) if row["flags"] else None}
            for row in rows
        ]
    if len(rows) < _PG_UNNEST_FROM:
        return [{**row, "code_system": row["code_system"].value, "channel": row["channel"].value}
                for row in rows]
    columns = {name: [row[name] for row in rows] for name in _INSERTED}
    columns["code_system"] = [value.value for value in columns["code_system"]]
    columns["channel"] = [value.value for value in columns["channel"]]
    columns["flags"] = [json.dumps(value) if value else None for value in columns["flags"]]
    return columns


#: The connection of the API's unit of work (see submit); elsewhere the session's.
_connection = ContextVar("ratings_connection", default=None)
#: What to do once the unit of work has committed (in-process bookkeeping that must not run on a rollback).
_after_commit = ContextVar("ratings_after_commit")


def _run(statement, params=None):
    connection = _connection.get()
    return (connection or db.session.connection()).execute(statement, params)


def _dialect_name():
    connection = _connection.get()
    return connection.dialect.name if connection is not None else db.session.get_bind().dialect.name


#: Periods change a few times a year; each process reads them at most every API_PERIOD_CACHE_SECONDS (a period
#: closed by the office is seen by every worker within that time, as if the office had clicked that much
#: later; a change made in this process is seen at once).
DEFAULT_PERIOD_CACHE_SECONDS = 2.0
#: Bumped whenever this process writes a period, so that its own change is seen at once.
_period_generation = [0]


def _open_periods():
    app = current_app._get_current_object()
    ttl = app.config.get("API_PERIOD_CACHE_SECONDS", DEFAULT_PERIOD_CACHE_SECONDS)
    cache = app.extensions.setdefault("rating_periods", {})
    now = time.monotonic()
    if cache.get("generation") != _period_generation[0] or now - cache.get("at", -math.inf) > ttl:
        cache.update(rows=_run(_PERIODS).all(), at=now, generation=_period_generation[0])
    return cache["rows"]


@event.listens_for(Period, "after_insert")
@event.listens_for(Period, "after_update")
@event.listens_for(Period, "after_delete")
def _forget_periods(mapper, connection, target):
    _period_generation[0] += 1


def _period_for(periods, day: date):
    """The open period whose dates contain `day` (latest start first), else (None, a closed one or None)."""
    containing = [p for p in periods if p.starts_on <= day <= p.ends_on]
    open_ = [p for p in containing if p.state is PeriodState.OPEN]
    if open_:
        return max(open_, key=lambda p: (p.starts_on, p.id)), None
    return None, (containing[0] if containing else None)


@dataclass
class _Item:
    index: int
    data: dict
    hash: str = ""
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    same_as: "int | None" = None


def _settings():
    config = current_app.config
    return (
        timedelta(seconds=config.get("API_CLOCK_SKEW_SECONDS", DEFAULT_CLOCK_SKEW)),
        config.get("RATING_BURST_MIN", DEFAULT_BURST_MIN),
        timedelta(seconds=config.get("RATING_BURST_SECONDS", DEFAULT_BURST_SECONDS)),
    )


def ingest(device: DeviceAuth, ratings: list[dict], now: datetime | None = None) -> list[dict]:
    """Store what a device posted and answer one status per rating, in order; the caller commits.

    Status is `accepted`, `duplicate` (this device sent this event_id before with the same content),
    `conflict` (same event_id, other content; the stored rating is kept) or `rejected` with a reason code and
    an English message. Rejections (a future date, no open period, a unit or channel the key may not post for,
    a case already rated) never stop the other ratings. Accepted level 1-2 ratings that are not system
    defaults open their bad-rating case here, in the same transaction. (The API goes through submit(), which
    commits.)
    """
    return _write(_prepare(device, ratings, now))


@dataclass
class _Plan:
    """What _prepare decided without writing, for _write to store."""

    device: DeviceAuth
    now: datetime
    items: list
    rows: list
    top: list
    neighbours: list
    marked: set
    burst_origin: str | None
    burst_min: int
    burst_window: timedelta


def _prepare(device: DeviceAuth, ratings: list[dict], now: datetime | None) -> _Plan:
    """Validate, classify and flag the ratings, reading (never writing) what that needs."""
    now = now or datetime.now(timezone.utc)
    skew, burst_min, burst_window = _settings()
    origin = device.origin
    items = [_Item(i, r) for i, r in enumerate(ratings)]
    periods = _open_periods()
    units = {}
    if device.is_integration:
        codes = {r["unit_code"] for r in ratings if r["unit_code"]}
        if device.unit_code:
            codes.add(device.unit_code)
        if codes:
            units = {u.code: u for u in _run(_UNITS, {"codes": sorted(codes)})}

    rows = []
    first = {}
    cases_in_batch = {}
    by_day = {}
    for item in items:
        r = item.data
        reason = None
        if device.is_integration:
            unit_code = r["unit_code"] or device.unit_code
            channel = r["channel"] or device.channel
            unit = units.get(unit_code) if unit_code else None
            if unit_code is None:
                reason = "unit_required"
            elif unit is None:
                reason = "unknown_unit"
            elif not unit.active:
                reason = "unit_inactive"
            unit_id = unit.id if unit else None
        else:
            unit_code, unit_id, channel = device.unit_code, device.unit_id, device.channel
            if r["unit_code"] and r["unit_code"] != device.unit_code:
                reason = "unit_not_allowed"
            elif r["channel"] and r["channel"] is not device.channel:
                reason = "channel_not_allowed"
        level = device.code_system.to_level(r["raw_code"])
        rated_at = r["rated_at"]
        item.hash = content_hash(
            r["event_id"], unit_code or r["unit_code"], level, channel.value,
            rated_at or datetime(1, 1, 1, tzinfo=timezone.utc), r["case_no"], r["service_item"],
            r["staff_code"], r["comment"], r["is_default"], r["stage"], r["real_name"],
        )
        earlier = first.get(r["event_id"])
        if earlier is not None:
            # The same event twice in one batch: answered like a retry of the first one.
            if earlier.hash == item.hash:
                item.same_as = earlier.index
            else:
                item.status = "conflict"
            continue
        first[r["event_id"]] = item
        period = None
        if reason is None:
            if rated_at is None:
                reason = "out_of_range"
            elif rated_at > now + skew:
                reason = "future"
            else:
                day = rated_at.astimezone(CST).date()
                found = by_day.get(day)
                if found is None:
                    found = by_day[day] = _period_for(periods, day)
                period, closed = found
                if period is None:
                    reason = "period_not_open" if closed is not None else "no_period"
        if reason is None and r["case_no"] is not None:
            key = (r["case_no"], r["stage"])
            if key in cases_in_batch:
                reason = "case_taken"
            cases_in_batch[key] = item.index
        if reason is not None:
            item.status, item.reason = "rejected", reason
            if reason == "period_not_open":
                item.message = f"{REASONS[reason]} (period {closed.name} is {closed.state.value})"
            elif reason in ("unknown_unit", "unit_inactive"):
                item.message = f"{REASONS[reason]}: '{unit_code}'"
            continue
        local = rated_at.astimezone(CST)
        flags = []
        if r["is_default"]:
            flags.append("default")
        if channel is Channel.WINDOW and ODD_HOURS[0] <= local.hour < ODD_HOURS[1]:
            flags.append("odd_hour")
        rows.append({
            "period_id": period.id, "unit_id": unit_id, "device_id": device.id, "origin": origin,
            "event_id": r["event_id"], "level": level, "raw_code": r["raw_code"],
            "code_system": device.code_system, "channel": channel, "window": device.window,
            "service_item": r["service_item"], "staff_code": r["staff_code"], "case_no": r["case_no"],
            "stage": r["stage"], "comment": r["comment"],
            "rated_at": rated_at, "received_at": now, "is_default": r["is_default"],
            "content_hash": item.hash, "flags": flags or None,
            "flagged": any(f != "default" for f in flags),
            "real_name": r["real_name"] if r["real_name"] is not None else r["case_no"] is not None,
            "excluded": False, "excluded_reason": None,
        })

    # Bursts are decided before writing (the neighbours are read outside the write transaction, which SQLite
    # holds for the whole database), so that new ratings are stored with their flag.
    top = [row for row in rows if row["level"] == 5 and not row["is_default"]]
    burst_origin = None if device.is_integration else origin
    neighbours = _neighbours(top, burst_origin, burst_window) if top else []
    marked = _bursts(top, neighbours, origin, burst_origin, burst_min, burst_window) if top else set()
    for row in top:
        if ("new", row["event_id"]) in marked:
            row["flags"] = (row["flags"] or []) + ["burst"]
            row["flagged"] = True

    return _Plan(device, now, items, rows, top, neighbours, marked, burst_origin, burst_min, burst_window)


def _write(plan: _Plan) -> list[dict]:
    """Store a prepared batch: the bulk insert, the answers to what it skipped, cases, flags, the device."""
    device, now, items, rows, top = plan.device, plan.now, plan.items, plan.rows, plan.top
    origin = device.origin
    inserted = {}
    if rows:
        # Sorted by event id so that concurrent overlapping batches take their index locks in one order.
        rows.sort(key=lambda row: row["event_id"])
        params = _insert_params(rows, now)
        if isinstance(params, list) and len(params) == 1:
            params = params[0]  # one row: a plain execute, not an executemany
        inserted = {event_id: rating_id for rating_id, event_id in _run(_insert_ratings(len(rows)), params)}

    leftovers = [it for it in items if it.same_as is None and it.status in (None, "rejected")
                 and it.data["event_id"] not in inserted]
    if leftovers:
        events = [it.data["event_id"] for it in leftovers]
        stored = dict(_run(_STORED, {"origin": origin, "events": events}).all())
        for it in leftovers:
            found = stored.get(it.data["event_id"])
            if found is not None:
                it.status = "duplicate" if found == it.hash else "conflict"
                it.reason = it.message = None
            elif it.status is None:
                it.status, it.reason = "rejected", "case_taken"
    for it in items:
        if it.status is None and it.same_as is None:
            it.status = "accepted"
    for it in items:
        if it.same_as is not None:
            target = items[it.same_as]
            it.status = "duplicate" if target.status in ("accepted", "duplicate") else target.status
            it.reason, it.message = target.reason, target.message

    accepted_rows = [row for row in rows if row["event_id"] in inserted]
    for row in accepted_rows:
        row["id"] = inserted[row["event_id"]]
    bad = [(row["id"], row["unit_id"]) for row in accepted_rows
           if row["level"] <= 2 and not row["is_default"]]
    if bad:
        from .cases import insert_cases

        insert_cases(bad, now, connection=_connection.get())
    if top:
        stored_top = [row for row in top if row["event_id"] in inserted]
        if len(stored_top) != len(top):
            # Some were retries or rejected: decide again with what was stored, and correct the new flags.
            marked = _bursts(stored_top, plan.neighbours, origin, plan.burst_origin, plan.burst_min,
                             plan.burst_window)
            fixes = []
            for row in stored_top:
                has, should = "burst" in (row["flags"] or []), ("new", row["event_id"]) in marked
                if has != should:
                    flags = [f for f in row["flags"] or [] if f != "burst"] + (["burst"] if should else [])
                    fixes.append({"b_id": row["id"], "b_flags": flags or None,
                                  "b_flagged": any(f != "default" for f in flags)})
            if fixes:
                _run(_SET_FLAGS, fixes)
        else:
            marked = plan.marked
        _flag_bursts({key for key in marked if not isinstance(key, tuple)})

    committed = _record_answers(device, items, now)
    callbacks = _after_commit.get(None)
    if callbacks is None:
        committed()  # not in submit(): the caller commits, soon
    else:
        callbacks.append(committed)
    return [_answer(it) for it in items]


def _answer(item: _Item) -> dict:
    answer = {"event_id": item.data["event_id"], "status": item.status}
    if item.status == "rejected":
        answer["reason"] = item.reason
        answer["message"] = item.message or REASONS[item.reason]
    elif item.status == "conflict":
        answer["message"] = "this event_id was stored before with other content; the stored rating is kept"
    return answer


#: A device's last contact and accepted count are written at most every DEFAULT_TOUCH_SECONDS per server
#: process (the write, and on PostgreSQL the lock on the device's row, would otherwise come with every single
#: rating); duplicates, conflicts and rejections are written at once. Accepted ratings not yet counted on the
#: device row are added with its next write from the same process; the console counts stored ratings from the
#: ratings.
DEFAULT_TOUCH_SECONDS = 10.0
_touch_lock = threading.Lock()


def _record_answers(device: DeviceAuth, items, now) -> Callable[[], None]:
    """Write the device's last contact and answer counters when due; returns what to do once committed."""
    counts = {"accepted": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    last_error = None
    for it in items:
        counts[it.status] += 1
        if it.status == "rejected":
            last_error = f"{it.reason}: {it.message or REASONS[it.reason]}"[:200]
    app = current_app._get_current_object()
    interval = app.config.get("API_DEVICE_TOUCH_SECONDS", DEFAULT_TOUCH_SECONDS)
    state = app.extensions.setdefault("device_touch", {})
    moment = time.monotonic()
    with _touch_lock:
        entry = state.setdefault(device.id, [-math.inf, 0])
        due = counts["duplicate"] or counts["conflict"] or counts["rejected"] or moment - entry[0] >= interval
        taken = entry[1] if due else 0
    accepted = counts["accepted"]
    if due:
        params = {"device": device.id, "now": now, **counts, "accepted": accepted + taken}
        if last_error:
            _run(_TOUCH_ERROR, {**params, "error": last_error})
        else:
            _run(_TOUCH, params)

    def committed():
        with _touch_lock:
            if due:
                entry[0], entry[1] = moment, entry[1] - taken
            else:
                entry[1] += accepted

    return committed


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
                marked.update(row.key for row in members[start:end + 1])
    return marked


def _flag_bursts(marked: set) -> int:
    if not marked:
        return 0
    flags = {}
    ids = sorted(marked)
    for start in range(0, len(ids), 5000):
        flags.update(_run(_FLAGS_OF, {"ids": ids[start:start + 5000]}).all())
    changes = [
        {"b_id": rid, "b_flags": (flags.get(rid) or []) + ["burst"]}
        for rid in ids
        if "burst" not in (flags.get(rid) or [])
    ]
    if changes:
        _run(_ADD_FLAGS, changes)
    return len(changes)


def _neighbours(top: list[dict], burst_origin: str | None, window: timedelta) -> list:
    """Stored top ratings near the new ones in time, of the same device (when it is one) or staff codes."""
    staff = sorted({row["staff_code"] for row in top if row["staff_code"]})
    if burst_origin is None and not staff:
        return []
    times = [row["rated_at"] for row in top]
    params = {"lo": min(times) - window, "hi": max(times) + window, "origin": burst_origin, "staff": staff,
              "one_staff": staff[0] if staff else None}
    query = _NEIGHBOURS[burst_origin is not None, min(len(staff), 2)]
    found = {row[0]: row for row in _run(query, params)}
    return [_Top(*row) for row in found.values()]


def _bursts(top: list[dict], neighbours: list, origin: str, burst_origin: str | None, need: int,
            window: timedelta) -> set:
    """Which new (("new", event_id)) and stored (id) top ratings are in a burst: `need` or more within
    `window` from one device (burst_origin; None for an integration, whose ratings come from many people) or
    one staff code of a unit. A new rating already stored (a retry) is counted once, as the stored one."""
    stored = {(n.origin, n.event_id) for n in neighbours}
    staff = {(row["unit_id"], row["staff_code"]) for row in top if row["staff_code"]}
    rows = list(neighbours) + [
        _Top(("new", row["event_id"]), origin, row["event_id"], row["unit_id"], row["staff_code"],
             row["rated_at"])
        for row in top if (origin, row["event_id"]) not in stored
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
    number of ratings newly flagged, by flag. Reads the period's window and top ratings once.
    """
    rows = _run(
        select(_R.c.id, _R.c.rated_at, _R.c.flags)
        .where(_R.c.period_id == period.id, _R.c.channel == Channel.WINDOW)
    ).all()
    changes = [
        {"b_id": row.id, "b_flags": (row.flags or []) + ["odd_hour"]}
        for row in rows
        if ODD_HOURS[0] <= row.rated_at.astimezone(CST).hour < ODD_HOURS[1]
        and "odd_hour" not in (row.flags or [])
    ]
    if changes:
        _run(_ADD_FLAGS, changes)
    return {"odd_hour": len(changes), "burst": rescan_bursts(period)}


def rescan_bursts(period: Period) -> int:
    """Look for bursts again over a whole period; returns how many ratings were newly flagged."""
    _, need, window = _settings()
    integrations = _integration_origins()
    top = [_Top(*row) for row in _run(
        select(_R.c.id, _R.c.origin, _R.c.event_id, _R.c.unit_id, _R.c.staff_code, _R.c.rated_at)
        .where(_R.c.period_id == period.id, _R.c.level == 5, _R.c.is_default.is_(False))
    )]
    groups = {}
    for row in top:
        if row.origin.startswith("d") and row.origin not in integrations:
            groups.setdefault(("d", row.origin), []).append(row)
        if row.staff_code:
            groups.setdefault(("s", row.unit_id, row.staff_code), []).append(row)
    return _flag_bursts(_in_bursts(groups, need, window))


def _integration_origins() -> set:
    ids = db.session.execute(select(Device.id).where(Device.is_integration.is_(True))).scalars()
    return {f"d{i}" for i in ids}


class _SQLiteWriters:
    """Writers to one SQLite file take turns here: threads on a lock, server processes on a file lock beside
    the database. SQLite allows one writing transaction at a time and makes the others sleep and retry (1 ms,
    then longer); a waiter on these locks instead wakes as soon as the writer before it is done."""

    def __init__(self):
        self._thread_lock = threading.Lock()
        self._files = {}

    @contextmanager
    def __call__(self, database: str | None):
        with self._thread_lock:
            handle = self._file(database)
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if handle is not None:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _file(self, database):
        if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
            return None
        handle = self._files.get(database)
        if handle is None:  # kept open for the life of the process, one per database file
            handle = self._files[database] = os.open(database + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        return handle


_SQLITE_WRITERS = _SQLiteWriters()


def submit(device: DeviceAuth, ratings: list[dict], attempts: int = 3) -> list[dict]:
    """Ingest and commit as one unit of work, on a connection of its own (the API needs no ORM session),
    retrying when the database picks this transaction as a deadlock victim or times out waiting for a lock
    (nothing was stored then, so a retry is safe)."""
    engine = db.engine
    sqlite_file = (engine.url.database or "") if engine.dialect.name == "sqlite" else None
    for attempt in range(attempts):
        try:
            callbacks = []
            with engine.connect() as connection:
                token, later = _connection.set(connection), _after_commit.set(callbacks)
                try:
                    plan = _prepare(device, ratings, None)
                    # Only the writing takes turns (SQLite has one writer at a time); preparing runs in
                    # parallel.
                    with _SQLITE_WRITERS(sqlite_file) if sqlite_file is not None else nullcontext():
                        answers = _write(plan)
                        connection.commit()
                finally:
                    _connection.reset(token)
                    _after_commit.reset(later)
            for callback in callbacks:
                callback()
            return answers
        except OperationalError as exc:
            code = getattr(getattr(exc, "orig", None), "sqlstate", None)
            retryable = code in ("40P01", "40001") or "database is locked" in str(exc)
            if not retryable or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


# --- exclusion --------------------------------------------------------------------------------------------


class RatingError(ValueError):
    """A change the office cannot make to a rating; the message is in Chinese (console)."""


def set_excluded(rating_id: int, excluded: bool, reason: str, actor: str) -> PublicRating:
    """Exclude a rating from scoring, or count it again, with a reason (audited); nothing is ever deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise RatingError("请填写理由")
    rating = db.session.get(PublicRating, rating_id)
    if rating is None:
        raise RatingError("评价不存在")
    if rating.excluded == excluded:
        raise RatingError("该评价已剔除" if excluded else "该评价未被剔除")
    rating.excluded = excluded
    rating.excluded_reason = reason if excluded else None
    audit.record(actor, "rating.exclude" if excluded else "rating.include", "public_rating", rating.id,
                 reason=reason, unit_id=rating.unit_id, level=rating.level, flags=rating.flags)
    db.session.flush()
    return rating


# --- figures for the console ------------------------------------------------------------------------------


def wilson_interval(good: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval (0-1) of the proportion good/n at normal quantile z (95% by default); None if n =
    0.
    """
    if n <= 0:
        return None
    p = good / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    return max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator)


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
        select(PublicRating.level, PublicRating.channel, PublicRating.is_default, PublicRating.excluded,
               PublicRating.flagged, func.count())
        .group_by(PublicRating.level, PublicRating.channel, PublicRating.is_default, PublicRating.excluded,
                  PublicRating.flagged),
        period.id, unit_id,
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
        select(bucket.label("m"), func.count(), func.sum(case((PublicRating.level >= 4, 1), else_=0)),
               func.sum(case((PublicRating.level <= 2, 1), else_=0)))
        .where(PublicRating.excluded.is_(False), PublicRating.is_default.is_(False))
        .group_by(bucket),
        period.id, unit_id,
    )
    counts = {m: (n, good or 0, bad or 0) for m, n, good, bad in db.session.execute(query)}
    series = []
    for i, month in enumerate(months):
        n, good, bad = counts.get(i, (0, 0, 0))
        series.append({
            "month": month, "n": n, "good": good, "bad": bad,
            "rate": good / n if n else None, "interval": wilson_interval(good, n),
        })
    return series


def unit_table(period: Period) -> list[dict]:
    """One row per unit with ratings in the period: counted, good rate and interval, bad, defaults, flagged,
    excluded; ordered by the lower bound of the interval (weakest evidence of good service first)."""
    scored = and_(PublicRating.excluded.is_(False), PublicRating.is_default.is_(False))

    def n(condition):
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            PublicRating.unit_id, func.count(), n(scored), n(and_(scored, PublicRating.level >= 4)),
            n(and_(scored, PublicRating.level <= 2)), n(PublicRating.is_default.is_(True)),
            n(PublicRating.flagged.is_(True)), n(PublicRating.excluded.is_(True)),
        )
        .where(PublicRating.period_id == period.id)
        .group_by(PublicRating.unit_id)
    )
    units = {u.id: u for u in db.session.execute(select(Unit)).scalars()}
    rows = []
    for unit_id, total, counted, good, bad, defaults, flagged, excluded in db.session.execute(query):
        interval = wilson_interval(good or 0, counted or 0)
        rows.append({
            "unit": units[unit_id], "total": total, "counted": counted or 0, "good": good or 0,
            "bad": bad or 0, "defaults": defaults or 0, "flagged": flagged or 0, "excluded": excluded or 0,
            "good_rate": (good / counted) if counted else None, "interval": interval,
        })
    rows.sort(key=lambda r: (r["interval"][0] if r["interval"] else 2.0, r["unit"].code))
    return rows


def flagged_ratings(period: Period, unit_id: int | None = None, flag: str | None = None,
                    show: str = "open", page: int = 1, per_page: int = 50):
    """Suspicious ratings of a period for the office to review (newest first), as a Flask-SQLAlchemy page.

    `show` is "open" (still counted), "excluded" or "all"; `flag` narrows to one flag (default: any suspicion
    flag; "default" lists the system-default ratings instead).
    """
    query = select(PublicRating).where(PublicRating.period_id == period.id)
    if unit_id is not None:
        query = query.where(PublicRating.unit_id == unit_id)
    if flag == "default":
        query = query.where(PublicRating.is_default.is_(True))
    else:
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
        self.items = items[start:start + per_page]
        self.has_prev = self.page > 1
        self.has_next = self.page < self.pages
        self.prev_num = self.page - 1
        self.next_num = self.page + 1
