"""One result computation at a time per period, across requests, workers, app servers and the command line.

Three quick clicks on 计算新版本 used to store three versions. Now a computation first claims the period: a
row in `computations` (primary key period_id) inserted and committed in its own short transaction, so every
other worker sees it at once and is told a computation is running. The claim is released in the transaction
that stores the result (the marker goes as the new version comes), or, when the computation fails, in its own
transaction after the session was rolled back. When the transaction that was to store the result rolls back
instead (its commit fails, or the view raises after the computation returned), the claim is released then, in
its own transaction, so that nobody is told "正在计算" about a computation that stored nothing.

SQLite serialises writers: a click that checked before the first claim was committed may wait on the lock
until the first result is committed, and then find no marker. So a computation that gets the claim also checks
that no version was stored for the period since its own request arrived; if one was, it answers with that
version instead of computing the same thing again. A claim older than COMPUTATION_STALE_MINUTES (a worker
killed mid-computation) is taken over.

This module commits (the claim and the failure release) on purpose: a claim that only the claiming transaction
could see would not stop anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Computation, Result
from ..timefmt import format_cst

#: The session.info key of the periods whose claim waits on the session's commit.
_PENDING = "computing.pending_release"


@dataclass(frozen=True)
class Refusal:
    """Why a computation was not started: another is running, or one finished since the request came."""

    reason: str  # "running" or "done"
    message: str
    message_zh: str


def _stale_after() -> timedelta:
    return timedelta(minutes=float(current_app.config["COMPUTATION_STALE_MINUTES"]))


def _insert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def claim(period, actor: str, requested_at: datetime, now: datetime | None = None) -> Refusal | None:
    """Claim the period for one computation (committed at once); None when claimed, else why not.

    `requested_at` is when the caller's request arrived: a version stored after it means another click already
    did the work, and the claim is given back.
    """
    now = now or datetime.now(UTC)
    table = Computation.__table__
    with db.engine.begin() as conn:
        stale = table.c.started_at < now - _stale_after()
        conn.execute(delete(table).where(table.c.period_id == period.id, stale))
        running = conn.execute(
            select(table.c.started_by, table.c.started_at).where(table.c.period_id == period.id)
        ).first()
        if running is None:
            # RETURNING, not rowcount: the driver may report -1 for INSERT … ON CONFLICT DO NOTHING.
            inserted = conn.execute(
                _insert()(table)
                .values(period_id=period.id, started_at=now, started_by=actor[:64])
                .on_conflict_do_nothing()
                .returning(table.c.period_id)
            ).first()
            if inserted is None:
                running = conn.execute(
                    select(table.c.started_by, table.c.started_at).where(table.c.period_id == period.id)
                ).first()
                running = running or (actor, now)
    if running is not None:
        by, at = running
        return Refusal(
            "running",
            f"a computation of period {period.name} is already running (started by {by} at {at:%H:%M:%S}Z)",
            f"{period.name} 的评价结果正在计算（{by} 于 {format_cst(at, '%H:%M:%S')} 开始），"
            "请稍候刷新查看，不必重复点击。",
        )
    latest = db.session.execute(
        select(Result.version, Result.computed_by).where(
            Result.period_id == period.id,
            Result.computed_at >= requested_at,
            Result.version == select(func.max(Result.version)).where(Result.period_id == period.id).scalar_subquery(),
        )
    ).first()
    if latest is not None:
        release_now(period)
        return Refusal(
            "done",
            f"version {latest.version} of period {period.name} was just computed (by {latest.computed_by})",
            f"{period.name} 刚刚已生成第 {latest.version} 版评价结果（{latest.computed_by}），未重复计算。",
        )
    return None


def release_with_result(period) -> None:
    """Give the claim back in the caller's transaction: committed together with the stored result; if that
    transaction rolls back instead, the claim is given back at once (`_release_after_rollback`)."""
    db.session.execute(delete(Computation).where(Computation.period_id == period.id))
    db.session.flush()
    db.session.info.setdefault(_PENDING, set()).add(period.id)


@event.listens_for(Session, "after_commit")
def _released_with_commit(session):
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _release_after_rollback(session):
    # The committed claim outlived the rolled-back delete: give it back in its own transaction.
    for period_id in session.info.pop(_PENDING, ()):
        _delete_claim(period_id)


def release_now(period) -> None:
    """Give the claim back at once, in its own transaction (after a failure; the caller's session was rolled
    back first, so that on SQLite no write lock of ours stands in the way)."""
    _delete_claim(period.id)


def _delete_claim(period_id: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(Computation.__table__).where(Computation.__table__.c.period_id == period_id))
