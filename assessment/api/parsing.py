"""Parsing the body of POST /api/v1/ratings: JSON in, plain rating dicts out, or an error naming the field.

This is the API's side of the device contract; the services receive ratings already parsed
(services/ratings/ingest.py). The limits here are also what api/openapi.py publishes.

Two kinds of bad input, two answers: a body that is not JSON, or not a rating object / {"ratings": [...]}
envelope, is refused whole (BodyError, 400); inside a valid envelope (or a single-rating body) a malformed
rating becomes a `Malformed` placeholder that ingest answers `rejected` with a reason naming the field, while
the other ratings are stored. A device that sends 1000 ratings after a day offline with one corrupted record
is never told to drop or resend all 1000.
"""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

from ..models import Channel, PublicRating, Unit
from ..services.ratings.ingest import Malformed

#: Longest accepted text per field (characters): the columns' own lengths; comment is Text, capped here.
TEXT_LIMITS = {
    **{name: PublicRating.__table__.c[name].type.length for name in ("case_no", "stage", "service_item", "staff_code")},
    "comment": 1000,
    "unit_code": Unit.__table__.c["code"].type.length,
}
#: Longest accepted event id (characters).
EVENT_ID_MAX = PublicRating.__table__.c["event_id"].type.length


class BodyError(ValueError):
    """The body is not JSON or not of the documented shape (400); `field` names where (ratings[3].level)."""

    def __init__(self, field, message, code="invalid_body"):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.code = code
        self.message = f"{field}: {message}" if field else message


class TooManyRatings(ValueError):
    """A batch over the limit (413)."""

    def __init__(self, n, limit):
        super().__init__(f"a batch holds at most {limit} ratings; this one holds {n}")
        self.n, self.limit = n, limit


_MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date-time with a UTC offset, as an aware UTC datetime; None when it cannot be stored.

    Raises ValueError with a short reason when the text is not such a date-time (no offset included).
    """
    try:
        moment = datetime.fromisoformat(text)  # the fast path for what devices usually send
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None and "T" in text[:11].upper():
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            return None
    match = _MOMENT.fullmatch(text.strip())
    if match is None:
        raise ValueError("must be an ISO 8601 date-time with an offset, e.g. 2026-03-01T09:30:00+08:00")
    y, mo, d, h, mi, s, frac, zulu, sign, oh, om = match.groups()
    if not zulu and not sign:
        raise ValueError("must have a UTC offset (e.g. +08:00 or Z)")
    offset = timedelta(0) if zulu else timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    if abs(offset) >= timedelta(hours=24) or (not zulu and int(om) >= 60):
        raise ValueError("has an impossible UTC offset")
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(s or 0), 59), micro, tzinfo=timezone(offset))
    except ValueError as exc:
        raise ValueError("is not a valid date and time") from exc
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return None


def _check_text(value: str, field: str, control=_CONTROL) -> None:
    """Refuse control characters and lone surrogates (which cannot be stored as UTF-8)."""
    if control.search(value):
        raise BodyError(field, "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BodyError(field, "is not valid Unicode text") from exc


def _event_id_problem(value) -> str | None:
    """Why `value` is not a usable event id (a string of 1-EVENT_ID_MAX characters, no control characters,
    valid Unicode), or None when it is one."""
    if not isinstance(value, str):
        return "is required and must be a string"
    if not 1 <= len(value) <= EVENT_ID_MAX:
        return f"must be 1-{EVENT_ID_MAX} characters"
    if _CONTROL.search(value):
        return "must not contain control characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _text(obj, name, where, limit, control=_CONTROL):
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BodyError(f"{where}{name}", "must be a string")
    if len(value) > limit:
        raise BodyError(f"{where}{name}", f"must be at most {limit} characters")
    _check_text(value, f"{where}{name}", control)
    value = value.strip()
    return value or None


def _flag(obj, name, where):
    value = obj.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise BodyError(f"{where}{name}", "must be true or false")


def _parse_item(obj, where):
    if not isinstance(obj, dict):
        raise BodyError(where.rstrip(".") or "body", "must be a rating object")
    event_id = obj.get("event_id")
    problem = _event_id_problem(event_id)
    if problem is not None:
        raise BodyError(f"{where}event_id", problem)
    level = obj.get("level")
    if type(level) is float and level.is_integer():
        level = int(level)  # JSON Schema counts 5.0 as an integer, and so do we
    if type(level) is not int or not 1 <= level <= 5:
        raise BodyError(f"{where}level", "is required and must be an integer 1-5")
    rated_text = obj.get("rated_at")
    if not isinstance(rated_text, str):
        raise BodyError(f"{where}rated_at", "is required and must be an ISO 8601 string with an offset")
    try:
        rated_at = parse_moment(rated_text)
    except ValueError as exc:
        raise BodyError(f"{where}rated_at", str(exc)) from None
    channel = obj.get("channel")
    if channel is not None:
        try:
            channel = Channel(channel)
        except (ValueError, TypeError):
            choices = ", ".join(c.value for c in Channel)
            raise BodyError(f"{where}channel", f"must be one of {choices}") from None
    return {
        "event_id": event_id,
        "raw_code": level,
        "rated_at": rated_at,
        "case_no": _text(obj, "case_no", where, TEXT_LIMITS["case_no"]),
        "stage": _text(obj, "stage", where, TEXT_LIMITS["stage"]) or "",
        "service_item": _text(obj, "service_item", where, TEXT_LIMITS["service_item"]),
        "staff_code": _text(obj, "staff_code", where, TEXT_LIMITS["staff_code"]),
        "comment": _text(obj, "comment", where, TEXT_LIMITS["comment"], _CONTROL_IN_TEXT),
        "unit_code": _text(obj, "unit_code", where, TEXT_LIMITS["unit_code"]),
        "channel": channel,
        "is_default": bool(_flag(obj, "is_default", where)),
        "real_name": _flag(obj, "real_name", where),
    }


def _parse_or_mark(obj, where) -> "dict | Malformed":
    """A parsed rating, or a Malformed placeholder naming the field (answered `rejected`, never a 400)."""
    try:
        return _parse_item(obj, where)
    except BodyError as exc:
        event_id = obj.get("event_id") if isinstance(obj, dict) else None
        return Malformed(event_id if _event_id_problem(event_id) is None else None, exc.field, exc.message)


def parse_body(raw: bytes, limit: int) -> list:
    """The ratings of a request body: one rating object or {"ratings": [...]} with at most `limit`.

    Each element is a rating dict, or a `Malformed` (field and message) for one that is not a valid rating:
    wrong type, missing field, not an object, out-of-range value. Raises BodyError (400) only when the body is
    not JSON or not of the shape (an object; `ratings`, when present, an array), TooManyRatings (413) over the
    limit. Unknown fields are ignored, so that firmware may send more than the platform keeps.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BodyError(None, "the body is not valid JSON", "invalid_json") from None
    if not isinstance(data, dict):
        raise BodyError(None, 'the body must be a rating object or {"ratings": [...]}')
    if "ratings" in data:
        items = data["ratings"]
        if not isinstance(items, list):
            raise BodyError("ratings", "must be an array of rating objects")
        if len(items) > limit:
            raise TooManyRatings(len(items), limit)
        return [_parse_or_mark(item, f"ratings[{i}].") for i, item in enumerate(items)]
    return [_parse_or_mark(data, "")]
