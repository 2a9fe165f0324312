"""Office sign-in: throttle per client, lock-out per account, the same answer time for every failure.

Rules (settings in the app config, defaults below):

- A client (IP address) may fail SIGNIN_CLIENT_FREE times; each further failure doubles its wait, from 2 s up
  to 15 min, during which no password is checked for it (answer 429). The counter is forgotten after an hour
  without failures, and a successful sign-in from the client starts it again.
- An account name that fails SIGNIN_LOCK_AFTER times in a row is locked for SIGNIN_LOCK_MINUTES: no password
  is checked for it, the right one neither. The lock-out is written to the audit log ("user.lock"); an admin
  lifts it in the console (账户管理) or with `assessment unlock-user NAME` ("user.unlock").
- Names that do not exist are counted and locked the same way, and a wrong name costs the same password hash
  as a wrong password, so neither the answer nor its time tells which names exist.

Both counters live in the database (signin_failures), created with INSERT … ON CONFLICT DO NOTHING and
raised in one UPDATE, so parallel tries are all counted and a lock-out holds in every worker. Flask-Limiter in
front of the form (SIGNIN_RATE_LIMIT, per process unless RATELIMIT_STORAGE_URI names a shared store) only
stops floods before they cost a password hash; it is not what the lock-out relies on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, select, update

from ..extensions import db
from ..models import SigninFailure, User
from . import audit

#: Without a failure for this long, a counter starts again.
FAILURE_MEMORY = timedelta(hours=1)
CLIENT_FIRST_WAIT_SECONDS = 2
CLIENT_MAX_WAIT_SECONDS = 15 * 60
DEFAULTS = {"SIGNIN_CLIENT_FREE": 10, "SIGNIN_LOCK_AFTER": 5, "SIGNIN_LOCK_MINUTES": 15}


class SigninRefused(Exception):
    """A sign-in that did not succeed: ``reason`` failed / locked / throttled, ``message`` in Chinese."""

    def __init__(self, reason: str, message: str, wait_seconds: int = 0):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.wait_seconds = wait_seconds


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _hash(scope: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    pepper = hmac.new(secret, b"assessment sign-in v1", hashlib.sha256).digest()
    return hmac.new(pepper, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()


def normalise_name(username: str | None) -> str:
    """The user name as typed, trimmed; counters compare it case-insensitively."""
    return (username or "").strip()


def account_key(username: str) -> str:
    return _hash("account", normalise_name(username).casefold())


def client_key(address: str | None) -> str:
    return _hash("client", address or "unknown")


_DUMMY_HASH = None


def _dummy_hash() -> str:
    """A password hash of the same method as real ones, checked when the name is unknown (same time)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        from werkzeug.security import generate_password_hash

        _DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_credentials(username: str, password: str) -> User | None:
    """The active user with this name and password, or None; every failure costs one password hash."""
    from werkzeug.security import check_password_hash

    user = db.session.execute(db.select(User).filter_by(username=normalise_name(username))).scalar_one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def _row(scope: str, key: str) -> SigninFailure | None:
    return db.session.execute(select(SigninFailure).filter_by(scope=scope, key=key)).scalar_one_or_none()


def _wait(scope: str, key: str, now: datetime) -> int:
    row = _row(scope, key)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return max(1, int((row.blocked_until - now).total_seconds() + 0.999))


def _count(scope: str, key: str, now: datetime) -> int:
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


def _block(scope: str, key: str, until: datetime | None, failures: int | None = None) -> None:
    values = {"blocked_until": until}
    if failures is not None:
        values["failures"] = failures
    db.session.execute(
        update(SigninFailure).where(SigninFailure.scope == scope, SigninFailure.key == key).values(**values)
    )


def _locked_message(minutes: int) -> str:
    return f"该账户因连续登录失败已被暂时锁定，请 {minutes} 分钟后再试，或请系统管理员解除锁定。"


def sign_in(username: str, password: str, client: str | None, now: datetime | None = None) -> User:
    """Check a sign-in from this client; the user, or SigninRefused (caller commits either way: counts stay).

    A throttled client or a locked account is answered before any password is checked. A successful sign-in
    clears both counters, notes the time and gives the user a session nonce (see end_sessions).
    """
    now = now or datetime.now(UTC)
    name = normalise_name(username)
    ckey, akey = client_key(client), account_key(name)
    wait = _wait("client", ckey, now)
    if wait:
        raise SigninRefused("throttled", f"登录失败次数过多，请 {wait} 秒后再试。", wait)
    wait = _wait("account", akey, now)
    if wait:
        raise SigninRefused("locked", _locked_message(max(1, (wait + 59) // 60)), wait)
    user = check_credentials(name, password)
    if user is None:
        _fail(name, ckey, akey, client, now)
    _block("account", akey, None, 0)
    _block("client", ckey, None, 0)
    user.last_login_at = now
    if not user.session_nonce:
        user.session_nonce = secrets.token_hex(16)
    audit.record(user.username, "user.login", "user", user.id)
    db.session.flush()
    return user


def _fail(name: str, ckey: str, akey: str, client: str | None, now: datetime):
    failures = _count("client", ckey, now)
    free = _setting("SIGNIN_CLIENT_FREE")
    if failures > free:
        wait = min(CLIENT_MAX_WAIT_SECONDS, CLIENT_FIRST_WAIT_SECONDS * 2 ** min(failures - free - 1, 20))
        _block("client", ckey, now + timedelta(seconds=wait))
    failures = _count("account", akey, now)
    if failures >= _setting("SIGNIN_LOCK_AFTER"):
        minutes = _setting("SIGNIN_LOCK_MINUTES")
        until = now + timedelta(minutes=minutes)
        _block("account", akey, until, 0)
        user_id = db.session.scalar(select(User.id).filter_by(username=name))
        audit.record(
            "system",
            "user.lock",
            "user",
            user_id,
            username=name[:64],
            failures=failures,
            until=until.isoformat(timespec="seconds"),
            client=ckey[:12],
        )
        db.session.flush()
        raise SigninRefused("locked", "用户名或密码错误。" + _locked_message(minutes))
    db.session.flush()
    raise SigninRefused("failed", "用户名或密码错误。")


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    """When this account's lock-out ends, or None when it is not locked."""
    now = now or datetime.now(UTC)
    row = _row("account", account_key(username))
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return row.blocked_until


def unlock(username: str, actor: str) -> bool:
    """Lift an account's lock-out (and forget its failures); True when it was locked. Audited."""
    name = normalise_name(username)
    was_locked = locked_until(name) is not None
    _block("account", account_key(name), None, 0)
    user_id = db.session.scalar(select(User.id).filter_by(username=name))
    audit.record(actor, "user.unlock", "user", user_id, username=name[:64], was_locked=was_locked)
    db.session.flush()
    return was_locked


def end_sessions(user: User) -> None:
    """Sign-out: a new nonce makes every copy of the user's session cookies worthless (see User.get_id)."""
    user.session_nonce = secrets.token_hex(16)
    audit.record(user.username, "user.logout", "user", user.id)
    db.session.flush()


def load_session_user(session_id: str) -> User | None:
    """The user of a session id "<id>:<nonce>" (User.get_id), if the nonce is still the user's current one."""
    user_id, sep, nonce = (session_id or "").partition(":")
    if not sep or not user_id.isdigit() or not nonce or int(user_id) > 2**31 - 1:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.session_nonce or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user
