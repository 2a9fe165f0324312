"""Storing what devices and integrations post (好差评), exactly once, with an answer per rating.

Exactly once is the database's job: UNIQUE(origin, event_id) (origin "d<device id>") and UNIQUE(case_no,
stage). A batch is inserted with one bulk INSERT … ON CONFLICT DO NOTHING RETURNING (insert.py); the rows it
skipped are then told apart by reading what is stored: same content hash → duplicate, other content →
conflict, no such event → the case number was taken (rejected). Level 1-2 ratings open their bad-rating case
(cases.py) and top ratings get their burst flags (flags.py) in the same transaction.
"""

import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from ...models import Device, Period, PublicRating, Unit
from ...timefmt import CST
from .cases import gets_a_case, insert_cases
from .connection import current as current_connection
from .connection import dialect_name, run
from .devices import DeviceAuth
from .flags import (
    burst_settings,
    bursts_among,
    flag_bursts,
    flags_of,
    guard_for,
    is_flagged,
    is_odd_hour,
    set_flags,
    stored_neighbours,
)
from .hashing import content_hash
from .insert import insert_one, insert_params, insert_statement
from .lookups import case_due, open_periods, period_for

#: Why a rating was rejected: code -> English explanation (the API answers code and message).
REASONS = {
    "invalid": "the rating is malformed (the message names the field)",
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

_R = PublicRating.__table__
_D = Device.__table__
_P = Period.__table__
_U = Unit.__table__
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
_TOUCH_ERROR = (
    update(_D)
    .where(_D.c.id == bindparam("device"))
    .values(**_COUNTERS, last_error=bindparam("error"), last_error_at=bindparam("now"))
)

#: What to do once the unit of work has committed (in-process bookkeeping that must not run on a rollback).
after_commit = ContextVar("ratings_after_commit")


@dataclass(frozen=True)
class Malformed:
    """A posted element that is not a valid rating: answered `rejected` (reason "invalid") with the field
    and message the parser gave (e.g. "ratings[3].level"), while the batch's other ratings are stored.
    `event_id` is echoed when the element had a usable one, else None."""

    event_id: str | None
    field: str
    message: str


@dataclass
class _Item:
    index: int
    data: dict
    hash: str = ""
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    same_as: "int | None" = None
    field: str | None = None


def _settings():
    """(clock skew allowed, ratings that make a burst, the burst's window), from the app's settings."""
    skew = current_app.config["API_CLOCK_SKEW_SECONDS"]
    return (timedelta(seconds=skew), *burst_settings())


def ingest(device: DeviceAuth, ratings: list[dict], now: datetime | None = None) -> list[dict]:
    """Store what a device posted and answer one status per rating, in order; the caller commits.

    Status is `accepted`, `duplicate` (this device sent this event_id before with the same content),
    `conflict` (same event_id, other content; the stored rating is kept) or `rejected` with a reason code and
    an English message. Rejections (a future date, no open period, a unit or channel the key may not post for,
    a case already rated) never stop the other ratings. Accepted level 1-2 ratings that are not system
    defaults open their bad-rating case here, in the same transaction. (The API goes through
    unit_of_work.submit(), which commits.)
    """
    return write(prepare(device, ratings, now))


@dataclass
class Plan:
    """What prepare() decided without writing, for write() to store."""

    device: DeviceAuth
    now: datetime
    items: list
    rows: list
    top: list
    #: The stored top ratings near the new ones (flags.stored_neighbours); None while not read (a single top
    #: rating whose insert carries the burst guard: see decide_bursts).
    neighbours: list | None
    marked: set
    burst_origin: str | None
    burst_min: int
    burst_window: timedelta
    #: (arms, values) of flags.burst_guard while the bursts are undecided (neighbours None), else None.
    guard: tuple | None = None


def prepare(device: DeviceAuth, ratings: list[dict], now: datetime | None, read_neighbours: bool = True) -> Plan:
    """Validate, classify and flag the ratings, reading (never writing) what that needs.

    With `read_neighbours` false, a lone new top rating's bursts are left undecided (Plan.neighbours None) when
    its insert can decide them (flags.burst_guard): store() then inserts it only if no burst can take it in, and
    answers None otherwise, for the caller to decide_bursts() and store it again. The usual single rating is
    thus one statement instead of a read and an insert.
    """
    now = now or datetime.now(UTC)
    skew, burst_min, burst_window = _settings()
    origin = device.origin
    items = []
    for i, r in enumerate(ratings):
        if isinstance(r, Malformed):
            items.append(
                _Item(
                    i, {"event_id": r.event_id}, status="rejected", reason="invalid", message=r.message, field=r.field
                )
            )
        else:
            items.append(_Item(i, r))
    periods = open_periods()
    units = {}
    if device.is_integration:
        codes = {it.data["unit_code"] for it in items if it.status is None and it.data["unit_code"]}
        if device.unit_code:
            codes.add(device.unit_code)
        if codes:
            units = {u.code: u for u in run(_UNITS, {"codes": sorted(codes)})}

    rows = []
    first = {}
    cases_in_batch = {}
    by_day = {}
    for item in items:
        if item.reason == "invalid":
            continue
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
            r["event_id"],
            unit_code or r["unit_code"],
            level,
            channel.value,
            rated_at or datetime(1, 1, 1, tzinfo=UTC),
            r["case_no"],
            r["service_item"],
            r["staff_code"],
            r["comment"],
            r["is_default"],
            r["stage"],
            r["real_name"],
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
                    found = by_day[day] = period_for(periods, day)
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
        flags = flags_of(r["is_default"], is_odd_hour(channel, rated_at))
        rows.append(
            {
                "period_id": period.id,
                "unit_id": unit_id,
                "device_id": device.id,
                "origin": origin,
                "event_id": r["event_id"],
                "level": level,
                "raw_code": r["raw_code"],
                "code_system": device.code_system,
                "channel": channel,
                "window": device.window,
                "service_item": r["service_item"],
                "staff_code": r["staff_code"],
                "case_no": r["case_no"],
                "stage": r["stage"],
                "comment": r["comment"],
                "rated_at": rated_at,
                "received_at": now,
                "is_default": r["is_default"],
                "content_hash": item.hash,
                "flags": flags,
                "flagged": is_flagged(flags),
                "real_name": r["real_name"] if r["real_name"] is not None else r["case_no"] is not None,
                "excluded": False,
                "excluded_reason": None,
            }
        )

    top = [row for row in rows if row["level"] == 5 and not row["is_default"]]
    burst_origin = None if device.is_integration else origin
    plan = Plan(device, now, items, rows, top, None, set(), burst_origin, burst_min, burst_window)
    plan.guard = None if read_neighbours else _guard_of(plan)
    if plan.guard is None:
        decide_bursts(plan)
    return plan


def decide_bursts(plan: Plan) -> None:
    """Read the stored top ratings near the plan's new ones and flag the new ones that are in a burst (the
    stored ones join them when written: Plan.marked).

    Bursts are decided before writing, so that new ratings are stored with their flag: for a batch or a lone
    single outside the write transaction (which SQLite holds for the whole database); for a single its burst
    guard kept out of a group's transaction, inside it (unit_of_work._store_in_group), seeing the group's
    ratings stored before it.
    """
    top = plan.top
    plan.neighbours = stored_neighbours(top, plan.burst_origin, plan.burst_window) if top else []
    plan.guard = None
    plan.marked = (
        bursts_among(top, plan.neighbours, plan.device.origin, plan.burst_origin, plan.burst_min, plan.burst_window)
        if top
        else set()
    )
    for row in top:
        if ("new", row["event_id"]) in plan.marked:
            row["flags"] = (row["flags"] or []) + ["burst"]
            row["flagged"] = True


def _guard_of(plan: Plan) -> tuple | None:
    """(arms, values) of flags.burst_guard for a plan that is one new top rating in at least one burst group,
    else None (nothing for a guard to decide, or more than one rating: those are read)."""
    if len(plan.rows) != 1 or len(plan.top) != 1:
        return None
    return guard_for(plan.top[0], plan.burst_origin, plan.burst_min, plan.burst_window, dialect_name())


def write(plan: Plan) -> list[dict]:
    """Store a prepared batch: the bulk insert, the answers to what it skipped, cases, flags, the device."""
    if plan.neighbours is None:
        decide_bursts(plan)
    answers = store(plan)
    touch(plan)
    return answers


def store(plan: Plan) -> list[dict] | None:
    """write() without the device's counters: the ratings, the answers, cases and flags. None, having stored
    nothing, for a plan whose bursts are undecided (see prepare) when its guarded insert did not insert."""
    device, now, items, rows, top = plan.device, plan.now, plan.items, plan.rows, plan.top
    origin = device.origin
    inserted = {}
    if rows:
        # Sorted by event id so that concurrent overlapping batches take their index locks in one order.
        rows.sort(key=lambda row: row["event_id"])
        params = insert_params(rows, now)
        if isinstance(params, list) and len(params) == 1:
            params = params[0]  # one row: a plain execute, not an executemany
        connection = current_connection.get()
        if plan.neighbours is None:  # a lone top rating, inserted only if no burst can take it in
            returned = insert_one(connection, params, guard=plan.guard)
            if not returned:
                return None  # a burst may take it in, or it was stored before: decide_bursts, then again
        elif connection is not None and len(rows) == 1:
            returned = insert_one(connection, params)  # the single-rating post, on the driver's cursor
        else:
            returned = run(insert_statement(len(rows)), params)
        inserted = {event_id: rating_id for rating_id, event_id in returned}

    leftovers = [
        it
        for it in items
        if it.same_as is None
        and it.status in (None, "rejected")
        and it.reason != "invalid"
        and it.data["event_id"] not in inserted
    ]
    if leftovers:
        events = [it.data["event_id"] for it in leftovers]
        stored = dict(run(_STORED, {"origin": origin, "events": events}).all())
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
    bad = [(row["id"], row["unit_id"]) for row in accepted_rows if gets_a_case(row["level"], row["is_default"])]
    if bad:
        insert_cases(bad, now, connection=current_connection.get(), due=case_due(now))
    if top:
        stored_top = [row for row in top if row["event_id"] in inserted]
        if len(stored_top) != len(top):
            # Some were retries or rejected: decide again with what was stored, and correct the new flags.
            marked = bursts_among(
                stored_top, plan.neighbours, origin, plan.burst_origin, plan.burst_min, plan.burst_window
            )
            fixes = []
            for row in stored_top:
                has, should = "burst" in (row["flags"] or []), ("new", row["event_id"]) in marked
                if has != should:
                    flags = [f for f in row["flags"] or [] if f != "burst"] + (["burst"] if should else [])
                    fixes.append({"b_id": row["id"], "b_flags": flags or None, "b_flagged": is_flagged(flags)})
            if fixes:
                set_flags(fixes)
        else:
            marked = plan.marked
        flag_bursts({key for key in marked if not isinstance(key, tuple)})
    return [_answer(it) for it in items]


def touch(plan: Plan, accepted_later: bool = False) -> None:
    """Write the device's counters for a stored plan (when due) and register what to do once committed.

    With `accepted_later` a plan whose ratings were all accepted writes nothing now, however long since the
    device's last write: its count waits in this process for the device's next write (as it does anyway
    between two due writes). For a rating committed on its own before this runs (unit_of_work), a failing
    counter write must not turn a stored rating's answer into an error.
    """
    committed = _record_answers(plan.device, plan.items, plan.now, accepted_later)
    callbacks = after_commit.get(None)
    if callbacks is None:
        committed()  # not in unit_of_work.submit(): the caller commits, soon
    else:
        callbacks.append(committed)


def _answer(item: _Item) -> dict:
    answer = {"event_id": item.data["event_id"], "status": item.status}
    if item.status == "rejected":
        answer["reason"] = item.reason
        answer["message"] = item.message or REASONS[item.reason]
        if item.field is not None:
            answer["field"] = item.field
    elif item.status == "conflict":
        answer["message"] = "this event_id was stored before with other content; the stored rating is kept"
    return answer


#: A device's last contact and accepted count are written at most every API_DEVICE_TOUCH_SECONDS per server
#: process (the write, and on PostgreSQL the lock on the device's row, would otherwise come with every single
#: rating); duplicates, conflicts and rejections are written at once. Accepted ratings not yet counted on the
#: device row are added with its next write from the same process; the console counts stored ratings from the
#: ratings.
_touch_lock = threading.Lock()


def _touch_state(app) -> tuple[dict, float]:
    """This process's [last write (monotonic s), accepted not yet written] per device id, and the interval."""
    return app.extensions.setdefault("device_touch", {}), app.config["API_DEVICE_TOUCH_SECONDS"]


def _time_due(entry, moment: float, interval: float) -> bool:
    """The one rule for a write that is due by time alone: none yet from this process, or `interval` since."""
    return entry is None or moment - entry[0] >= interval


def counters_due(device: DeviceAuth) -> bool:
    """Whether this process is due to write the device's last contact and counters (API_DEVICE_TOUCH_SECONDS
    since it last did), whatever the answers."""
    state, interval = _touch_state(current_app._get_current_object())
    return _time_due(state.get(device.id), time.monotonic(), interval)


def _record_answers(device: DeviceAuth, items, now, accepted_later: bool = False) -> Callable[[], None]:
    """Write the device's last contact and answer counters when due (see touch); returns what to do once
    committed."""
    counts = {"accepted": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    last_error = None
    for it in items:
        counts[it.status] += 1
        if it.status == "rejected":
            last_error = f"{it.reason}: {it.message or REASONS[it.reason]}"[:200]
    state, interval = _touch_state(current_app._get_current_object())
    moment = time.monotonic()
    with _touch_lock:
        entry = state.setdefault(device.id, [-math.inf, 0])
        due = (
            counts["duplicate"]
            or counts["conflict"]
            or counts["rejected"]
            or (not accepted_later and _time_due(entry, moment, interval))
        )
        taken = entry[1] if due else 0
    accepted = counts["accepted"]
    if due:
        params = {"device": device.id, "now": now, **counts, "accepted": accepted + taken}
        if last_error:
            run(_TOUCH_ERROR, {**params, "error": last_error})
        else:
            run(_TOUCH, params)

    def committed():
        with _touch_lock:
            if due:
                entry[0], entry[1] = moment, entry[1] - taken
            else:
                entry[1] += accepted

    return committed
