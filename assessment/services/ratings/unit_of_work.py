"""The device API's unit of work: one posted batch stored and committed on a connection of its own.

`submit` is the one service that commits itself (see its docstring). Writers to one SQLite file take turns
(_SQLiteWriters); a single rating that needs only its insert is that one INSERT in autocommit (_write_alone,
its burst check inside it); other single ratings of one server process that are ready at the same moment
share a transaction and its commit (_GroupCommits). What is stored and answered is decided in ingest.py.
"""

import os
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

try:
    import fcntl
except ImportError:  # not on Unix: the threads of each process still take turns
    fcntl = None

from flask import current_app
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ...extensions import db
from .cases import gets_a_case
from .connection import current as current_connection
from .devices import DeviceAuth
from .ingest import Malformed, Plan, after_commit, counters_due, decide_bursts, prepare, store, touch, write


class _SQLiteWriters:
    """Writers to one SQLite file take turns here: threads on a lock, server processes on a file lock beside
    the database. SQLite allows one writing transaction at a time and makes the others sleep and retry (1 ms,
    then longer); a waiter on these locks instead wakes as soon as the writer before it is done."""

    def __init__(self):
        self._thread_lock = threading.Lock()
        self._files = {}

    def turn(self, connection):
        """Wait for the writers' turn of `connection`'s database when it is SQLite (else nothing to wait for)."""
        if connection.dialect.name != "sqlite":
            return nullcontext()
        return self._turn(connection.engine.url.database or "")

    @contextmanager
    def _turn(self, database: str):
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


@contextmanager
def _working_on(connection, callbacks: list):
    """Run the ratings code on `connection`, collecting in `callbacks` what to do once it has committed."""
    token, later = current_connection.set(connection), after_commit.set(callbacks)
    try:
        yield
    finally:
        current_connection.reset(token)
        after_commit.reset(later)


def submit(device: DeviceAuth, ratings: list[dict], attempts: int = 3) -> list[dict]:
    """Ingest one posted batch and commit it, as one unit of work on a connection of its own.

    This is the one service that commits itself (everything else flushes and lets the request or command
    commit): a device's batch is its own unit of work, answered only once it is durable, and the hot path runs
    on a bare connection with no ORM session, so there is no request transaction for it to join. Committing
    per batch keeps each transaction (and SQLite's single writer lock, the row locks on PostgreSQL) as short
    as one batch, which is what lets many devices post at once. Retries when the database picks this
    transaction as a deadlock victim or times out waiting for a lock (nothing was stored then, so a retry is
    safe).

    A single rating whose storing is its insert and nothing else (_stands_alone) is one INSERT in autocommit
    (_write_alone): on PostgreSQL straight away, on SQLite when no other thread of this process is writing. A
    top rating's insert also decides whether a burst takes it in (flags.burst_guard) instead of a read before
    it; when one may, nothing is inserted, and the rating is read for and written again (ingest.decide_bursts).
    Any other single rating is committed together with the single ratings that other threads of this process
    are storing at the same moment (_GroupCommits): one transaction and one commit for several requests, each
    answered from its own insert. If either write fails before anything of it was stored, each request is
    stored again on its own, as below.
    """
    if len(ratings) == 1 and not isinstance(ratings[0], Malformed):
        # One connection for the whole request: its reads and, when this thread writes the group, the shared
        # transaction. A second checkout from the pool costs about as much as the insert.
        with db.engine.connect() as connection:
            plan = _apart(connection, prepare, device, ratings, None, read_neighbours=False)
            if len(plan.rows) == 1:
                answers = _submit_single(plan, connection)
                if answers is not None:
                    return answers
                plan = None  # the write failed: stored again on its own, from a fresh read
        # Rejected before writing (its answer and the device's counters, alone), or the write failed.
        return _submit_alone(device, ratings, attempts, plan)
    return _submit_alone(device, ratings, attempts)


def _submit_single(plan: Plan, connection) -> list[dict] | None:
    """submit() for one rating to store: its answers once committed, or None when its write failed.

    PostgreSQL: a rating that stands alone is its own INSERT in autocommit (no queue, so every request thread
    can have its insert in flight, and the server's WAL flush serves the commits that wait for it together).
    Others, and every single rating on SQLite, go through the process's group commit (_GroupCommits).
    """
    if connection.dialect.name == "postgresql":
        try:
            answers = _try_alone(plan, connection)
        except Exception as exc:  # the insert did not go through: stored again on its own
            current_app.logger.warning("single rating written again in a transaction of its own: %s", exc)
            return None
        if answers is not None:
            return answers
    app = current_app._get_current_object()
    group = app.extensions.get("rating_group_commits")
    if group is None:
        group = app.extensions.setdefault("rating_group_commits", _GroupCommits())
    return group.write(plan, connection)


def _submit_alone(device: DeviceAuth, ratings: list, attempts: int, plan: Plan | None = None) -> list[dict]:
    """submit() for one request on its own: prepare (unless `plan` is given), write, commit, retry."""
    for attempt in range(attempts):
        try:
            callbacks = []
            with db.engine.connect() as db_connection, _working_on(db_connection, callbacks):
                if plan is None or attempt > 0:
                    plan = prepare(device, ratings, None)
                # Only the writing takes turns (SQLite has one writer at a time); preparing runs in parallel.
                with _SQLITE_WRITERS.turn(db_connection):
                    answers = write(plan)
                    db_connection.commit()
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


def _apart(connection, work, *args, **kwargs):
    """Run `work` (prepare, decide_bursts) on `connection` outside any write transaction: its reads (the burst
    neighbours) are single statements, in autocommit on PostgreSQL (no BEGIN and ROLLBACK round trips); the
    write comes later, in a transaction that may be shared (_GroupCommits), on this connection or on the group
    writer's."""
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    with _working_on(connection, []):
        done = work(*args, **kwargs)
    if connection.in_transaction():
        # A read through SQLAlchemy (the periods when their cache is stale, an integration's units) begins a
        # transaction even in autocommit: end it, or the isolation level could not be set for the write.
        connection.commit()
    return done


@dataclass
class _Queued:
    """A prepared single rating waiting for a shared commit: its answers once committed, or failed."""

    plan: Plan
    answers: list | None = None
    failed: bool = False


class _GroupCommits:
    """Group commit of single ratings, per server process: requests whose rating is ready while another
    thread is writing queue up, and the next writer stores them all in one transaction with one commit.

    Why: a commit is the expensive part of a single rating — a WAL flush (fsync) on PostgreSQL, where the
    rating_counts row of the unit and level is also locked from the insert until the commit is on disk, so
    that concurrent singles of one unit would otherwise wait for each other's fsync one by one; SQLite has
    one writer at a time anyway. On PostgreSQL only singles that do more than their insert come here (a case
    to open, burst flags, the device's counters); a lone insert in autocommit (_write_alone) holds that row
    from its trigger's upsert at the end of the statement to its flush (a bench run with that trigger
    disabled was no faster, bench/README.md, session 6). No thread waits on purpose: a group is whatever queued
    while the previous group was being written (at most the process's request threads).

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

    def write(self, plan: Plan, connection) -> list[dict] | None:
        """The plan's answers once committed with the others queued, or None when the group failed. When this
        thread writes the group, it does so on `connection` (its own, outside any transaction)."""
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
            _write_group(group, connection)
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


def _stands_alone(plan: Plan) -> bool:
    """Whether storing this single rating is its insert and nothing else: no bad-rating case to open, no burst
    flag to set on stored ratings (as far as known: a top rating not yet read for is guarded in its insert,
    flags.burst_guard), the device's counters not due (ingest.counters_due)."""
    row = plan.rows[0]
    return not plan.marked and not gets_a_case(row["level"], row["is_default"]) and not counters_due(plan.device)


def _try_alone(plan: Plan, connection) -> list[dict] | None:
    """The single rating's answers when it stands alone and is written so (_write_alone), else None, having
    written nothing: it needs a transaction (_write_group; undecided bursts go in under the guard there too,
    _store_in_group). When the burst guard (or a stored rating of the same event) kept it out, its bursts are
    read and it is tried alone once more."""
    if not _stands_alone(plan):
        return None
    answers = _write_alone(plan, connection)
    if answers is None:
        _apart(connection, decide_bursts, plan)
        if _stands_alone(plan):
            answers = _write_alone(plan, connection)  # decided: not None
    return answers


def _write_alone(plan: Plan, connection) -> list[dict] | None:
    """Store a lone single rating that stands alone as one INSERT … RETURNING in autocommit: the statement is
    its own transaction, so there is no BEGIN or COMMIT to send and SQLite's writer lock is held for one
    statement. Exactly once is still UNIQUE(origin, event_id); the answer comes from that statement, after
    it has committed. A top rating whose bursts are undecided (ingest.prepare) carries the burst guard in that
    statement; None when the guard (or a stored rating of the same event) kept it out: nothing was written,
    and the caller decides its bursts and writes it again.

    Raises only from the insert, which then stored nothing (the caller may store the request again; as for any
    answer lost on the way, a connection lost just after the server committed makes that retry a duplicate).
    Once the insert has gone through, the answer stands: a rating that was not stored (duplicate, conflict, a
    case already rated) then writes the device's counters in a statement of its own, and if that fails, only
    the counters miss this answer (logged).
    """
    # PostgreSQL is in autocommit since _apart. SQLite: the driver's own autocommit switch, for the
    # length of this write (SQLAlchemy's isolation level would run a PRAGMA when the connection goes back).
    driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if driver is not None:
        level, driver.isolation_level = driver.isolation_level, None
    callbacks = []
    try:
        with _working_on(connection, callbacks), _SQLITE_WRITERS.turn(connection):
            answers = store(plan)
            if answers is None:
                return None
            try:
                touch(plan, accepted_later=True)
            except Exception as exc:
                current_app.logger.warning("device %s: counters not written for one answer: %s", plan.device.id, exc)
    finally:
        if driver is not None:
            driver.isolation_level = level
        _end_bookkeeping(connection)
    for callback in callbacks:
        callback()
    return answers


def _end_bookkeeping(connection) -> None:
    """End the transaction SQLAlchemy believes open on an autocommit connection (insert.insert_one began it):
    every statement has committed by itself, so this sends nothing; a connection lost meanwhile is left for
    the pool to discard."""
    if connection.in_transaction():
        try:
            connection.rollback()
        except SQLAlchemyError:
            pass


def _write_group(group: list[_Queued], connection) -> None:
    """Store the queued single ratings in one transaction on `connection` and set each one's answers once
    committed (a lone rating that stands alone: _try_alone). A queued top rating whose bursts are still
    undecided is inserted under its burst guard in the transaction (_store_in_group), as a lone one is."""
    if len(group) == 1:
        group[0].answers = _try_alone(group[0].plan, connection)
        if group[0].answers is not None:
            return
    if connection.dialect.name == "postgresql":  # out of prepare's autocommit, into a transaction
        connection.execution_options(isolation_level=connection.default_isolation_level)
    callbacks = []
    answers = {}
    with _working_on(connection, callbacks):
        try:
            with _SQLITE_WRITERS.turn(connection):
                for queued in sorted(group, key=_counts_key):
                    answers[id(queued)] = _store_in_group(queued.plan)
                for queued in sorted(group, key=lambda each: each.plan.device.id):
                    touch(queued.plan)
                connection.commit()
        except BaseException:
            connection.rollback()
            raise
    for callback in callbacks:
        callback()
    for queued in group:
        queued.answers = answers[id(queued)]


def _store_in_group(plan: Plan) -> list[dict]:
    """store() in a group's transaction. A rating whose bursts are undecided goes in under its burst guard
    (no read before it); when the guard keeps it out, its bursts are read in this transaction (which sees the
    group's ratings stored before it) and it is stored again, decided."""
    answers = store(plan)
    if answers is None:
        decide_bursts(plan)
        answers = store(plan)
    return answers
