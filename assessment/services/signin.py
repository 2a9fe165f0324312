"""Office sign-in: throttle per client, lock-out per account, the same answer time for every failure.

Rules (settings in the app config, defaults in create_app):

- A client (IP address) may fail SIGNIN_CLIENT_FREE times; each further failure doubles its wait, from 2 s up
  to 15 min, during which no password is checked for it (answer 429). The counter is forgotten after an hour
  without failures; a successful sign-in does not clear it (one valid account must not reset the brake on
  guessing other names).
- An account name that fails SIGNIN_LOCK_AFTER times in a row is locked for SIGNIN_LOCK_MINUTES: no password
  is checked for it, the right one neither. The lock-out is written to the audit log ("user.lock"); an admin
  lifts it in the console (账户管理) or with `assessment unlock-user NAME` ("user.unlock").
- Names that do not exist are counted and locked the same way, and a wrong name costs the same password hash
  as a wrong password, so neither the answer nor its time tells which names exist.

Both counters live in the database (services/throttle.py, shared with the access codes), so parallel tries are
all counted and a lock-out holds in every worker. Flask-Limiter in
front of the form (SIGNIN_RATE_LIMIT, per process unless RATELIMIT_STORAGE_URI names a shared store) only
stops floods before they cost a password hash; it is not what the lock-out relies on.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import User
from . import audit, throttle
from .refusals import Refused


class SigninRefused(Exception):
    """A sign-in that did not succeed: ``reason`` failed / locked / throttled, ``message`` in Chinese."""

    def __init__(self, reason: str, message: str, wait_seconds: int = 0):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.wait_seconds = wait_seconds


def _setting(name: str) -> int:
    return int(current_app.config[name])


def normalise_name(username: str | None) -> str:
    """The user name as typed, trimmed; counters compare it case-insensitively."""
    return (username or "").strip()


def account_key(username: str) -> str:
    return throttle.hashed("account", normalise_name(username).casefold())


def client_key(address: str | None) -> str:
    return throttle.hashed("client", address or "unknown")


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


def _locked_message(minutes: int) -> str:
    return f"该账户因连续登录失败已被暂时锁定，请 {minutes} 分钟后再试，或请系统管理员解除锁定。"


def sign_in(username: str, password: str, client: str | None, now: datetime | None = None) -> User:
    """Check a sign-in from this client; the user, or SigninRefused (caller commits either way: counts stay).

    A throttled client or a locked account is answered before any password is checked. A successful sign-in
    clears the account's counter (the client's expires on its own, throttle.FAILURE_MEMORY), notes the time and
    gives the user a session nonce (see end_sessions).
    """
    now = now or datetime.now(UTC)
    name = normalise_name(username)
    ckey, akey = client_key(client), account_key(name)
    wait = throttle.wait("client", ckey, now)
    if wait:
        raise SigninRefused("throttled", f"登录失败次数过多，请 {wait} 秒后再试。", wait)
    wait = throttle.wait("account", akey, now)
    if wait:
        raise SigninRefused("locked", _locked_message(max(1, (wait + 59) // 60)), wait)
    user = check_credentials(name, password)
    if user is None:
        _fail(name, ckey, akey, client, now)
    # Only the account's counter: one valid account must not wipe its client's brake on guessing other names.
    throttle.clear("account", akey)
    user.last_login_at = now
    if not user.session_nonce:
        user.session_nonce = secrets.token_hex(16)
    audit.record(user.username, "user.login", "user", user.id)
    db.session.flush()
    return user


def _fail(name: str, ckey: str, akey: str, client: str | None, now: datetime):
    throttle.fail("client", ckey, _setting("SIGNIN_CLIENT_FREE"), now)
    failures = throttle.count("account", akey, now)
    if failures >= _setting("SIGNIN_LOCK_AFTER"):
        minutes = _setting("SIGNIN_LOCK_MINUTES")
        until = now + timedelta(minutes=minutes)
        throttle.block("account", akey, until, 0)
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
    return throttle.blocked_until("account", account_key(username), now or datetime.now(UTC))


class UnknownAccount(Refused):
    """`unlock` was given a name no account has."""


def unlock(username: str, actor: str) -> bool:
    """Lift an account's lock-out (and forget its failures); True when it was locked. Audited. UnknownAccount
    when no account has the name (an unknown name's counter expires on its own)."""
    name = normalise_name(username)
    user_id = db.session.scalar(select(User.id).filter_by(username=name))
    if user_id is None:
        raise UnknownAccount(f"用户名：没有名为“{name}”的账户。", "用户名")
    was_locked = locked_until(name) is not None
    throttle.clear("account", account_key(name))
    audit.record(actor, "user.unlock", "user", user_id, username=name[:64], was_locked=was_locked)
    db.session.flush()
    return was_locked


def end_sessions(user: User) -> None:
    """Sign-out: a new nonce makes every copy of the user's session cookies worthless (see User.get_id)."""
    user.session_nonce = secrets.token_hex(16)
    audit.record(user.username, "user.logout", "user", user.id)
    db.session.flush()


def load_session_user(session_id: str) -> User | None:
    """The user of a session id "<id>:<nonce>" (User.get_id), if the nonce is still the user's current one and the
    account is still active (Flask-Login checks is_active only at login_user: a deactivated account's open
    sessions end here)."""
    user_id, sep, nonce = (session_id or "").partition(":")
    if not sep or not user_id.isdigit() or not nonce or int(user_id) > 2**31 - 1:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not user.session_nonce or not hmac.compare_digest(user.session_nonce, nonce):
        return None
    return user
