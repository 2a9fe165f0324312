"""Rating devices and integration keys (评价器 / 接口密钥): registration, keys, authentication.

A key is "dk" + 12 hex characters of lookup prefix + 64 hex characters (256 random bits). It is shown once;
the database keeps only the prefix (to find the row) and the sha256 of the whole key. A fast hash is enough
because the key is random, not a password someone chose.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, event, func, select

from ...extensions import db
from ...models import Channel, CodeSystem, Device, PublicRating, Unit
from .. import audit

KEY_PREFIX_LEN = 14
KEY_LEN = KEY_PREFIX_LEN + 64


class DeviceError(ValueError):
    """A registration or change that cannot be made; `message_zh` is for the console."""

    def __init__(self, message, message_zh=None):
        super().__init__(message)
        self.message_zh = message_zh or message


class AuthError(Exception):
    """A request without a valid device key: `code` and English `message` for the 401 answer."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DeviceAuth:
    """What the API needs to know about the device that posts, read in one query."""

    id: int
    unit_id: int | None
    unit_code: str | None
    window: str | None
    channel: Channel
    code_system: CodeSystem
    is_integration: bool

    @property
    def origin(self) -> str:
        """Where its event ids are unique (PublicRating.origin)."""
        return f"d{self.id}"


def hash_key(key: str) -> str:
    """sha256 of a device key, as stored in Device.key_hash."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key: (key, lookup prefix, hash)."""
    prefix = "dk" + secrets.token_hex(6)
    key = prefix + secrets.token_hex(32)
    return key, prefix, hash_key(key)


def _unit_by_code(code: str) -> Unit:
    unit = db.session.execute(select(Unit).filter_by(code=code)).scalar_one_or_none()
    if unit is None:
        raise DeviceError(f"unit '{code}' does not exist", f"单位编码“{code}”不存在")
    return unit


def register_device(
    unit_code: str | None,
    window: str | None,
    actor: str,
    location: str | None = None,
    integration: bool = False,
    channel: str | None = None,
    code_system: str = "standard",
) -> tuple[Device, str]:
    """Register a device at a unit's window, or an integration key; returns (device, key) — the key only now.

    An integration key (online platform, 12345 hotline) may name unit_code and channel per rating, so its unit
    is optional (a default when given); a window device needs a unit and a window. `code_system` says how the
    source numbers levels (standard: 5 = 非常满意; gbt39046: 1 = 非常满意).
    """
    window = (window or "").strip() or None
    location = (location or "").strip() or None
    unit = _unit_by_code(unit_code.strip()) if unit_code and unit_code.strip() else None
    if not integration:
        if unit is None:
            raise DeviceError("a window device needs a unit", "评价器必须属于一个单位")
        if window is None:
            raise DeviceError("a window device needs a window name", "评价器必须填写窗口名称")
    try:
        chan = Channel(channel) if channel else (Channel.ONLINE if integration else Channel.WINDOW)
        system = CodeSystem(code_system or "standard")
    except ValueError as exc:
        raise DeviceError(str(exc), "渠道或编码方式无效") from exc
    if window and len(window) > 100 or location and len(location) > 200:
        raise DeviceError("window or location too long", "窗口名称或位置过长")
    key, prefix, digest = new_key()
    device = Device(
        unit_id=unit.id if unit else None,
        window=window,
        location=location,
        is_integration=integration,
        channel=chan,
        code_system=system,
        key_prefix=prefix,
        key_hash=digest,
        enabled=True,
    )
    db.session.add(device)
    db.session.flush()
    audit.record(
        actor,
        "device.register",
        "device",
        device.id,
        unit=unit.code if unit else None,
        window=window,
        integration=integration,
        channel=chan.value,
        code_system=system.value,
    )
    return device, key


def get_device(device_id: int) -> Device:
    """The device with this id, or DeviceError."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise DeviceError(f"device {device_id} does not exist", f"设备{device_id}不存在")
    return device


def rotate_key(device_id: int, actor: str) -> tuple[Device, str]:
    """Give a device a new key (the old one stops working at once); returns (device, new key). Audited."""
    device = get_device(device_id)
    key, prefix, digest = new_key()
    device.key_prefix, device.key_hash = prefix, digest
    device.key_rotated_at = datetime.now(UTC)
    audit.record(actor, "device.rotate_key", "device", device.id)
    db.session.flush()
    return device, key


def set_enabled(device_id: int, enabled: bool, actor: str) -> Device:
    """Enable or disable a device; a disabled device's key gets 401. Audited."""
    device = get_device(device_id)
    if device.enabled != enabled:
        device.enabled = enabled
        audit.record(actor, "device.enable" if enabled else "device.disable", "device", device.id)
        db.session.flush()
    return device


_D, _U = Device.__table__, Unit.__table__
#: Built once: this runs for every API request.
_AUTH_QUERY = (
    select(
        _D.c.id,
        _D.c.unit_id,
        _U.c.code,
        _D.c.window,
        _D.c.channel,
        _D.c.code_system,
        _D.c.is_integration,
        _D.c.enabled,
        _D.c.key_hash,
    )
    .select_from(_D.outerjoin(_U, _D.c.unit_id == _U.c.id))
    .where(_D.c.key_prefix == bindparam("prefix"))
)


#: A device that posts often is looked up at most every `ttl` seconds (API_AUTH_CACHE_SECONDS, 2 s) per
#: process. How quickly a revocation takes effect: a disabled or rotated key (or a device moved to another
#: unit) is refused at once by the process that made the change (this generation counter, bumped whenever
#: this process writes a device or a unit, drops its cache), and by every other server process within `ttl`
#: seconds of the change, as if the office had clicked that much later. Ratings already accepted in that
#: window stay stored (they came from a key that was valid when the device was last checked).
_generation = [0]


def authenticate(header: str | None, cache: dict | None = None, ttl: float = 0.0) -> DeviceAuth:
    """The device whose key is in an `Authorization: Bearer <key>` header, or AuthError (401).

    Missing, malformed, unknown and disabled keys are told apart in the error code so that whoever maintains
    the device can see what is wrong; a wrong key is compared in constant time. `cache` (a dict kept by the
    caller, per process) remembers keys that passed for `ttl` seconds, keyed by the key's hash.
    """
    if not header:
        raise AuthError("missing_key", "send the device key as 'Authorization: Bearer <key>'")
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise AuthError("missing_key", "send the device key as 'Authorization: Bearer <key>'")
    if len(key) != KEY_LEN or not key.isascii():
        raise AuthError("invalid_key", "unknown device key")
    digest = hash_key(key)
    now = time.monotonic()
    if cache is not None:
        hit = cache.get(digest)
        if hit is not None and hit[1] == _generation[0] and now - hit[2] <= ttl:
            return hit[0]
    # A connection of its own, given back at once: the API's unit of work takes another (see unit_of_work.submit).
    # One statement in autocommit on PostgreSQL: no BEGIN and ROLLBACK round trips around it.
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        row = connection.execute(_AUTH_QUERY, {"prefix": key[:KEY_PREFIX_LEN]}).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        raise AuthError("invalid_key", "unknown device key")
    if not row.enabled:
        raise AuthError("disabled_key", "this device key has been disabled by the office")
    device = DeviceAuth(
        id=row.id,
        unit_id=row.unit_id,
        unit_code=row.code,
        window=row.window,
        channel=row.channel,
        code_system=row.code_system,
        is_integration=row.is_integration,
    )
    if cache is not None:
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (device, _generation[0], now)
    return device


@event.listens_for(Device, "after_update")
@event.listens_for(Device, "after_delete")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
def _forget_devices(mapper, connection, target):
    _generation[0] += 1


def device_rows() -> list[dict]:
    """Every device with its unit, stored ratings (all, flagged) and answer counters, newest first."""
    stored = {
        origin: (n, flagged or 0)
        for origin, n, flagged in db.session.execute(
            select(PublicRating.origin, func.count(), func.sum(func.cast(PublicRating.flagged, db.Integer)))
            .where(PublicRating.origin.like("d%"))
            .group_by(PublicRating.origin)
        )
    }
    rows = []
    for device, unit in db.session.execute(
        select(Device, Unit).outerjoin(Unit, Device.unit_id == Unit.id).order_by(Device.id.desc())
    ):
        n, flagged = stored.get(f"d{device.id}", (0, 0))
        rows.append({"device": device, "unit": unit, "stored": n, "flagged": int(flagged)})
    return rows
