"""Sign-in failures (throttle and lock-out) and the one-computation-at-a-time marker of a period."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class SigninFailure(db.Model):
    """Failed office sign-ins counted per account name and per client, and wrong access codes per client
    (scope "access_code"), in the database (services/throttle.py).

    The counters live here rather than in a worker's memory so that every gunicorn worker (and every app
    server on one PostgreSQL) sees the same count: a lock-out holds whichever worker answers the next try.
    Account names that do not exist are counted the same way, so a lock-out does not tell which names exist.
    """

    __tablename__ = "signin_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "account" (the normalised user name), "client" (the IP address, sign-in) or "access_code" (the IP address,
    #: personal access codes).
    scope: Mapped[str] = mapped_column(String(16))
    #: HMAC of the user name or address (neither is kept in clear here; the audit log names locked accounts).
    key: Mapped[str] = mapped_column(String(64))
    #: Failures since the last success (or since the counter expired).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: No password is checked for this account or client before this moment.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint("failures >= 0", name="failures_nonneg"),
        CheckConstraint("scope IN ('account', 'client', 'access_code')", name="scope_known"),
    )


class Computation(db.Model):
    """A result computation running for a period: at most one row per period (the primary key says so).

    Claimed in its own committed transaction before the computation starts, so that a second click, another
    worker or the command line sees it at once and is told to wait; removed with the result's own commit.
    """

    __tablename__ = "computations"

    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[str] = mapped_column(String(64))
