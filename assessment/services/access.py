"""Personal access (个人链接 / 访问码): issuing, revoking and resolving links and access codes.

One mechanism for raters and participants (informants, linkage departments): an AccessKey belongs to exactly
one of them, in one period.

- A link is ``<base-url>/r/<token>``; the token is ``secrets.token_urlsafe(24)`` (192 random bits).
- An access code is 8 characters from ``23456789ABCDEFGHJKMNPQRSTUVWXYZ`` (no 0/O, 1/I/L to misread), about 40
  bits; it is read case-insensitively with spaces and hyphens ignored, and wrong codes are slowed per client
  (`resolve_code`).
- Both are stored only as HMAC-SHA256 keyed with a pepper derived from the app's SECRET_KEY. A fast keyed hash is
  enough for the random 192-bit token; for the 40-bit code the key is what matters: a copy of the database
  alone does not let anyone try all codes offline. Consequence: changing SECRET_KEY invalidates every issued
  link and code (re-issue them).
- A key works only while its period is open; it can be revoked, and issuing again revokes the previous key.

Errors carry a Chinese explanation for the rater (``AccessError.message``) and a short ``reason``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import current_app

from ..extensions import db
from ..models import AccessKey, Participant, Period, PeriodState, Rater
from . import audit, throttle
from .refusals import Refused

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
#: Characters ignored when a person types a code: spaces (also full-width) and hyphens (also full-width).
_CODE_IGNORED = str.maketrans("", "", " \t-\u3000\uff0d\u2010\u2011\u2012\u2013\u2014_")

#: The failure counter of wrong codes (services/throttle.py), per client.
THROTTLE_SCOPE = "access_code"
#: The wrong code at which a client first has to wait; each further one doubles the wait.
FREE_FAILURES = 5
FIRST_WAIT_SECONDS = throttle.FIRST_WAIT_SECONDS
MAX_WAIT_SECONDS = throttle.MAX_WAIT_SECONDS
#: A client's counter starts again after this long without a failure.
FAILURE_MEMORY = throttle.FAILURE_MEMORY
UNKNOWN_MESSAGE = "链接或访问码无效。请核对编办发给您的通知，或联系编办重新获取。"
#: last_used_at is written at most this often (a page view should not always write).
TOUCH_EVERY = timedelta(minutes=1)


class AccessError(Refused):
    """A link or code that does not open anything; ``message`` explains it to the rater in Chinese.

    ``reason``: malformed / unknown / revoked / not_open (period still a draft) / closed (period closed or
    published) / throttled. For ``closed`` the key is attached, so pages can be shown read-only.
    """

    def __init__(self, reason: str, message: str, key: AccessKey | None = None, wait_seconds: int = 0):
        super().__init__(message)
        self.reason = reason
        self.message = message  # the same as message_zh (the name the pages read)
        self.key = key
        self.wait_seconds = wait_seconds


class Issued(NamedTuple):
    """A freshly issued key: the holder, the token and the code in clear (shown once), and the stored row."""

    holder: Rater | Participant
    token: str
    code: str
    key: AccessKey


# --- hashing ------------------------------------------------------------------------------------------------


def _pepper() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"assessment personal access v1", hashlib.sha256).digest()


def _hash(kind: str, value: str) -> str:
    return hmac.new(_pepper(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    """HMAC-SHA256 (hex) of a link token, as stored in AccessKey.token_hash."""
    return _hash("token", token)


def hash_code(code: str) -> str:
    """HMAC-SHA256 (hex) of a normalised access code, as stored in AccessKey.code_hash."""
    return _hash("code", code)


def normalise_code(text: str) -> str:
    """The code as stored: upper case, no spaces or hyphens; AccessError('malformed') if it is not a code."""
    code = (text or "").translate(_CODE_IGNORED).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise AccessError("malformed", "访问码应为 8 位字母和数字（不含 0、1、I、L、O），请核对后重新输入。")
    return code


def format_code(code: str) -> str:
    """A code as printed for people: two groups of four (ABCD-2345)."""
    return f"{code[:4]}-{code[4:]}"


def new_token() -> str:
    """A fresh link token: 24 random bytes, URL-safe (32 characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def new_code() -> str:
    """A fresh 8-character access code from CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- issuing and revoking -----------------------------------------------------------------------------------


def _holder_filter(holder):
    if isinstance(holder, Rater):
        return AccessKey.rater_id == holder.id
    if isinstance(holder, Participant):
        return AccessKey.participant_id == holder.id
    raise TypeError(f"cannot issue access to {holder!r}")


def revoke(holders, period: Period, actor: str) -> int:
    """Revoke the live keys of these raters/participants in the period; returns how many keys were revoked."""
    now = datetime.now(UTC)
    revoked = 0
    for holder in holders:
        keys = (
            db.session.execute(
                db.select(AccessKey).where(
                    _holder_filter(holder), AccessKey.period_id == period.id, AccessKey.revoked_at.is_(None)
                )
            )
            .scalars()
            .all()
        )
        for key in keys:
            key.revoked_at, key.revoked_by = now, actor
            audit.record(actor, "access.revoke", "access_key", key.id, period=period.name, holder=holder.code)
            revoked += 1
    db.session.flush()
    return revoked


def issue(holders, period: Period, actor: str) -> list[Issued]:
    """Issue a fresh link token and access code to each holder (Rater or Participant) for the period.

    The holder's previous live keys in the period are revoked first. The clear token and code are returned
    once and never stored; the caller shows or writes them (invitations) and commits. Issuing is allowed in
    any period state (sheets are printed before the period opens); the key only works while the period is
    open.
    """
    holders = list(holders)
    revoke(holders, period, actor)
    now = datetime.now(UTC)
    issued = []
    taken = set()
    for holder in holders:
        token = new_token()
        while True:  # 40-bit codes: a collision is very unlikely, and never allowed
            code = new_code()
            code_hash = hash_code(code)
            if code_hash in taken:
                continue
            if db.session.scalar(db.select(AccessKey.id).filter_by(code_hash=code_hash)) is None:
                break
        taken.add(code_hash)
        key = AccessKey(
            period_id=period.id,
            rater_id=holder.id if isinstance(holder, Rater) else None,
            participant_id=holder.id if isinstance(holder, Participant) else None,
            token_hash=hash_token(token),
            code_hash=code_hash,
            issued_at=now,
            issued_by=actor,
        )
        db.session.add(key)
        issued.append(Issued(holder, token, code, key))
    db.session.flush()
    for item in issued:
        audit.record(actor, "access.issue", "access_key", item.key.id, period=period.name, holder=item.holder.code)
    return issued


def live_key(holder, period: Period) -> AccessKey | None:
    """The holder's current (not revoked) key in the period, if any."""
    return db.session.execute(
        db.select(AccessKey)
        .where(_holder_filter(holder), AccessKey.period_id == period.id, AccessKey.revoked_at.is_(None))
        .order_by(AccessKey.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- resolving ----------------------------------------------------------------------------------------------


def check_key(key: AccessKey | None) -> AccessKey:
    """The key if it opens pages now; else AccessError (revoked, holder no longer active, period not yet open,
    period closed).

    For a closed (or published) period the error carries the key: the rater may still look, read-only.
    """
    if key is None:
        raise AccessError("unknown", UNKNOWN_MESSAGE)
    if key.revoked_at is not None:
        raise AccessError(
            "revoked", "此链接或访问码已停用（可能已重新发放）。请使用最新收到的链接或访问码，或联系编办。"
        )
    if not key.holder.active:  # left out of assignments and reminders: the link stops too
        raise AccessError("revoked", "您已不在本年度评价或报送的名单中，此链接或访问码已停用。如有疑问请联系编办。")
    state = key.period.state
    if state is PeriodState.DRAFT:
        raise AccessError("not_open", f"{key.period.name} 年度评价尚未开始，请在编办通知的时间内填写。", key)
    if state in (PeriodState.CLOSED, PeriodState.PUBLISHED):
        raise AccessError("closed", f"{key.period.name} 年度评价已截止，问卷只能查看，不能再修改或提交。", key)
    return key


def resolve_token(token: str) -> AccessKey:
    """The live key of a link token, or AccessError explaining in Chinese why it does not open."""
    token = (token or "").strip()
    key = None
    if 16 <= len(token) <= 64:
        key = db.session.execute(db.select(AccessKey).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
    return check_key(key)


def resolve_code(code: str, client: str | None = None, now: datetime | None = None) -> AccessKey:
    """The live key of an access code (normalised first), or AccessError explaining why it does not open.

    Wrong codes are slowed per client (its address; services/throttle.py, scope "access_code"): after
    FREE_FAILURES unknown codes each further one doubles the wait, from 2 s up to 15 min, and while the client
    waits no code is checked (AccessError "throttled", with ``wait_seconds``). The caller must commit an
    "unknown" refusal so that it is counted. A right code does not clear the counter (it expires after
    FAILURE_MEMORY): one valid code must not reset the brake on guessing others.
    """
    now = now or datetime.now(UTC)
    counter = throttle.hashed(THROTTLE_SCOPE, client or "unknown")
    wait = throttle.wait(THROTTLE_SCOPE, counter, now)
    if wait:
        raise AccessError("throttled", f"错误次数过多，请 {wait} 秒后再试。", wait_seconds=wait)
    normalised = normalise_code(code)
    key = db.session.execute(db.select(AccessKey).filter_by(code_hash=hash_code(normalised))).scalar_one_or_none()
    if key is None:
        wait = throttle.fail(THROTTLE_SCOPE, counter, FREE_FAILURES - 1, now)
        raise AccessError(
            "unknown", UNKNOWN_MESSAGE + (f" 错误次数过多，请 {wait} 秒后再试。" if wait else ""), wait_seconds=wait
        )
    return check_key(key)


def get_key(key_id: int) -> AccessKey | None:
    """The key by id (a rater's session keeps only this id)."""
    return db.session.get(AccessKey, key_id)


def touch(key: AccessKey, now: datetime | None = None) -> None:
    """Note that the key was used, at most once per TOUCH_EVERY so page views rarely write."""
    now = now or datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now


#: Where links point when neither an explicit base URL nor the BASE_URL setting says, outside a request (the
#: address `make run` serves).
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def base_url(explicit: str | None = None) -> str:
    """Where personal links point: `explicit` (a --base-url option), else the BASE_URL setting (the address the
    people reach), else this request's host, else DEFAULT_BASE_URL; without a trailing slash."""
    from flask import current_app, has_request_context, request

    chosen = explicit or current_app.config.get("BASE_URL") or (request.url_root if has_request_context() else None)
    return (chosen or DEFAULT_BASE_URL).rstrip("/")


def link_for(holder, token: str, base: str | None = None) -> str:
    """A personal link (interfaces.md, "Raters' access"): `<base>/r/<token>` for a rater, `<base>/p/<token>` for an
    informant, expert or linkage department."""
    prefix = "p" if isinstance(holder, Participant) else "r"
    return f"{base_url(base)}/{prefix}/{token}"


def entry_url(holder, base: str | None = None) -> str:
    """Where the holder types an access code: `<base>/r/` for a rater, `<base>/p/` for a participant."""
    return link_for(holder, "", base)
