"""Storing what devices and integrations post (好差评), exactly once, with an answer per rating.

Exactly once is the database's job: UNIQUE(origin, event_id) (origin "d<device id>") and UNIQUE(case_no,
stage). A batch is inserted with one bulk INSERT … ON CONFLICT DO NOTHING RETURNING (insert.py); the rows it
skipped are then told apart by reading what is stored: same content hash → duplicate, other content →
conflict, no such event → the case number was taken (rejected). Level 1-2 ratings open their bad-rating case
(cases.py) and top ratings get their burst flags (flags.py) in the same transaction.
"""

import math
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

try:
    import fcntl
except ImportError:  # not on Unix: the threads of each process still take turns
    fcntl = None

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError

from ...extensions import db
from ...models import Device, Period, PublicRating, Unit
from ..workdays import CST
from .cases import insert_cases
from .connection import current as current_connection
from .connection import run
from .devices import DeviceAuth
from .flags import (
    burst_settings,
    bursts_among,
    flag_bursts,
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
_after_commit = ContextVar("ratings_after_commit")


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
        flags = []
        if r["is_default"]:
            flags.append("default")
        if is_odd_hour(channel, rated_at):
            flags.append("odd_hour")
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
                "flags": flags or None,
                "flagged": is_flagged(flags),
                "real_name": r["real_name"] if r["real_name"] is not None else r["case_no"] is not None,
                "excluded": False,
                "excluded_reason": None,
            }
        )

    # Bursts are decided before writing (the neighbours are read outside the write transaction, which SQLite
    # holds for the whole database), so that new ratings are stored with their flag.
    top = [row for row in rows if row["level"] == 5 and not row["is_default"]]
    burst_origin = None if device.is_integration else origin
    neighbours = stored_neighbours(top, burst_origin, burst_window) if top else []
    marked = bursts_among(top, neighbours, origin, burst_origin, burst_min, burst_window) if top else set()
    for row in top:
        if ("new", row["event_id"]) in marked:
            row["flags"] = (row["flags"] or []) + ["burst"]
            row["flagged"] = True

    return _Plan(device, now, items, rows, top, neighbours, marked, burst_origin, burst_min, burst_window)


def _write(plan: _Plan) -> list[dict]:
    """Store a prepared batch: the bulk insert, the answers to what it skipped, cases, flags, the device."""
    answers = _store(plan)
    _touch(plan)
    return answers


def _store(plan: _Plan) -> list[dict]:
    """_write without the device's counters: the ratings, the answers, cases and flags."""
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
        if connection is not None and len(rows) == 1:
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
    bad = [(row["id"], row["unit_id"]) for row in accepted_rows if row["level"] <= 2 and not row["is_default"]]
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


def _touch(plan: _Plan) -> None:
    """Write the device's counters for a stored plan (when due) and register what to do once committed."""
    committed = _record_answers(plan.device, plan.items, plan.now)
    callbacks = _after_commit.get(None)
    if callbacks is None:
        committed()  # not in submit(): the caller commits, soon
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


def _record_answers(device: DeviceAuth, items, now) -> Callable[[], None]:
    """Write the device's last contact and answer counters when due; returns what to do once committed."""
    counts = {"accepted": 0, "duplicate": 0, "conflict": 0, "rejected": 0}
    last_error = None
    for it in items:
        counts[it.status] += 1
        if it.status == "rejected":
            last_error = f"{it.reason}: {it.message or REASONS[it.reason]}"[:200]
    app = current_app._get_current_object()
    interval = app.config["API_DEVICE_TOUCH_SECONDS"]
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
    """Ingest one posted batch and commit it, as one unit of work on a connection of its own.

    This is the one service that commits itself (everything else flushes and lets the request or command
    commit): a device's batch is its own unit of work, answered only once it is durable, and the hot path runs
    on a bare connection with no ORM session, so there is no request transaction for it to join. Committing
    per batch keeps each transaction (and SQLite's single writer lock, the row locks on PostgreSQL) as short
    as one batch, which is what lets many devices post at once. Retries when the database picks this
    transaction as a deadlock victim or times out waiting for a lock (nothing was stored then, so a retry is
    safe).

    A single rating to store is committed together with the single ratings that other threads of this process
    are storing at the same moment (_GroupCommits): one transaction and one commit for several requests, each
    answered from its own insert. If that shared transaction fails, nothing of it was stored and each request
    is stored again on its own, as below.
    """
    if len(ratings) == 1 and not isinstance(ratings[0], Malformed):
        plan = _prepare_apart(device, ratings)
        if len(plan.rows) != 1:  # rejected before writing: its answer and the device's counters, alone
            return _submit_alone(device, ratings, attempts, plan)
        app = current_app._get_current_object()
        group = app.extensions.get("rating_group_commits")
        if group is None:
            group = app.extensions.setdefault("rating_group_commits", _GroupCommits())
        answers = group.write(plan)
        if answers is not None:
            return answers
    return _submit_alone(device, ratings, attempts)


def _submit_alone(device: DeviceAuth, ratings: list, attempts: int, plan: _Plan | None = None) -> list[dict]:
    """submit() for one request on its own: prepare (unless `plan` is given), write, commit, retry."""
    engine = db.engine
    sqlite_file = (engine.url.database or "") if engine.dialect.name == "sqlite" else None
    for attempt in range(attempts):
        try:
            callbacks = []
            with engine.connect() as db_connection:
                token, later = current_connection.set(db_connection), _after_commit.set(callbacks)
                try:
                    if plan is None or attempt > 0:
                        plan = _prepare(device, ratings, None)
                    # Only the writing takes turns (SQLite has one writer at a time); preparing runs in
                    # parallel.
                    with _SQLITE_WRITERS(sqlite_file) if sqlite_file is not None else nullcontext():
                        answers = _write(plan)
                        db_connection.commit()
                finally:
                    current_connection.reset(token)
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


def _prepare_apart(device: DeviceAuth, ratings: list) -> _Plan:
    """_prepare on a connection of its own that is given back at once: its reads (the burst neighbours) are
    single statements in autocommit on PostgreSQL (no BEGIN and ROLLBACK round trips); the write comes later,
    in a transaction that may be shared (_GroupCommits)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        token = current_connection.set(connection)
        try:
            return _prepare(device, ratings, None)
        finally:
            current_connection.reset(token)


@dataclass
class _Queued:
    """A prepared single rating waiting for a shared commit: its answers once committed, or failed."""

    plan: _Plan
    answers: list | None = None
    failed: bool = False


class _GroupCommits:
    """Group commit of single ratings, per server process: requests whose rating is ready while another
    thread is writing queue up, and the next writer stores them all in one transaction with one commit.

    Why: a commit is the expensive part of a single rating — a WAL flush (fsync) on PostgreSQL, where the
    rating_counts row of the unit and level is also locked from the insert until the commit is on disk, so
    that concurrent singles of one unit would otherwise wait for each other's fsync one by one; SQLite has
    one writer at a time anyway. No thread waits on purpose: a group is whatever queued while the previous
    group was being written (at most the process's request threads).

    What stays exact: each rating is its own INSERT … ON CONFLICT DO NOTHING RETURNING in the shared
    transaction, so UNIQUE(origin, event_id) and UNIQUE(case_no, stage) decide as before (a second post of
    the same event in the same group sees the first and is a duplicate) and each request is answered from its
    own statements, only after the commit. If anything in the group fails, the transaction is rolled back
    (nothing of it is stored) and every request of the group is stored again on its own (submit).

    Lock order (PostgreSQL): the ratings are inserted in the order of their rating_counts key, and only then
    the devices' counters are written, in device order; two groups (or a group and a batch) thus take the
    rows they share in the same order and cannot deadlock on them.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: list[_Queued] = []
        self._writing = False

    def write(self, plan: _Plan) -> list[dict] | None:
        """The plan's answers once committed with the others queued, or None when the group failed."""
        queued = _Queued(plan)
        with self._cond:
            self._queue.append(queued)
            while self._writing and queued.answers is None and not queued.failed:
                self._cond.wait()
            if queued.answers is not None or queued.failed:
                return queued.answers
            self._writing = True
            group, self._queue = self._queue, []
        try:
            _write_group(group)
        except BaseException as exc:
            for each in group:
                each.answers, each.failed = None, True
            if not isinstance(exc, Exception):
                raise
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
        return queued.answers


def _counts_key(queued: _Queued):
    row = queued.plan.rows[0]
    return (row["period_id"], row["unit_id"], row["level"], row["is_default"], row["origin"], row["event_id"])


def _write_group(group: list[_Queued]) -> None:
    """Store the queued single ratings in one transaction and set each one's answers once committed."""
    engine = db.engine
    sqlite_file = (engine.url.database or "") if engine.dialect.name == "sqlite" else None
    callbacks = []
    answers = {}
    with engine.connect() as connection:
        token, later = current_connection.set(connection), _after_commit.set(callbacks)
        try:
            with _SQLITE_WRITERS(sqlite_file) if sqlite_file is not None else nullcontext():
                for queued in sorted(group, key=_counts_key):
                    answers[id(queued)] = _store(queued.plan)
                for queued in sorted(group, key=lambda each: each.plan.device.id):
                    _touch(queued.plan)
                connection.commit()
        finally:
            current_connection.reset(token)
            _after_commit.reset(later)
    for callback in callbacks:
        callback()
    for queued in group:
        queued.answers = answers[id(queued)]
