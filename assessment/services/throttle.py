"""Failure counters in the database (signin_failures): the one brake on guessing, for office sign-in (scopes
"account" and "client") and personal access codes (scope "access_code").

A counter is a row per (scope, key); the key is an HMAC (`hashed`), never the name or address. It is created
with INSERT … ON CONFLICT DO NOTHING and raised in one UPDATE, so parallel failures are all counted and every
worker sees the same count. Without a failure for FAILURE_MEMORY a counter starts again.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, select, update

from ..extensions import db
from ..models import SigninFailure

#: Without a failure for this long, a counter starts again.
FAILURE_MEMORY = timedelta(hours=1)
FIRST_WAIT_SECONDS = 2
MAX_WAIT_SECONDS = 15 * 60


def hashed(kind: str, value: str) -> str:
    """What a counter keeps of a name or address: an HMAC keyed from SECRET_KEY (hex, 64 characters)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    pepper = hmac.new(secret, b"assessment sign-in v1", hashlib.sha256).digest()
    return hmac.new(pepper, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _row(scope: str, key: str) -> SigninFailure | None:
    return db.session.execute(select(SigninFailure).filter_by(scope=scope, key=key)).scalar_one_or_none()


def wait(scope: str, key: str, now: datetime) -> int:
    """Seconds this counter still blocks (0: go ahead)."""
    row = _row(scope, key)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return max(1, int((row.blocked_until - now).total_seconds() + 0.999))


def blocked_until(scope: str, key: str, now: datetime) -> datetime | None:
    """When this counter's block ends, or None when it does not block."""
    row = _row(scope, key)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until


def count(scope: str, key: str, now: datetime) -> int:
    """Add one failure to the counter (created if missing, restarted if forgotten); the new count."""
    table = SigninFailure.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(table).values(scope=scope, key=key, failures=0, last_failure_at=now).on_conflict_do_nothing()
    )
    forgotten = table.c.last_failure_at < now - FAILURE_MEMORY
    db.session.execute(
        update(table)
        .where(table.c.scope == scope, table.c.key == key)
        .values(failures=case((forgotten, 1), else_=table.c.failures + 1), last_failure_at=now)
    )
    return db.session.scalar(select(table.c.failures).where(table.c.scope == scope, table.c.key == key))


def block(scope: str, key: str, until: datetime | None, failures: int | None = None) -> None:
    """Block the counter until then (None: unblock); `failures` also resets the count."""
    values = {"blocked_until": until}
    if failures is not None:
        values["failures"] = failures
    db.session.execute(
        update(SigninFailure).where(SigninFailure.scope == scope, SigninFailure.key == key).values(**values)
    )


def clear(scope: str, key: str) -> None:
    """Forget the counter's failures and lift its block."""
    block(scope, key, None, 0)


def fail(scope: str, key: str, free: int, now: datetime) -> int:
    """Count a failure; past `free` failures each further one doubles the block, from FIRST_WAIT_SECONDS up to
    MAX_WAIT_SECONDS. Returns the seconds to wait now (0 while still free)."""
    failures = count(scope, key, now)
    if failures <= free:
        return 0
    seconds = min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** min(failures - free - 1, 20))
    block(scope, key, now + timedelta(seconds=seconds))
    return seconds
