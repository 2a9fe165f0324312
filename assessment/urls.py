"""Safe parsing of what a browser sends in URLs: ids, page numbers, years, and where to go next."""

from urllib.parse import urlsplit

from werkzeug.routing import BaseConverter

#: Ids are 32-bit in PostgreSQL; larger numbers are "not found", never an overflow error.
MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """`<id:case_id>`: a database id 1..2^31-1 (anything else does not match, so 404)."""

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value):
        number = int(value)
        if number > MAX_ID:
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return number

    def to_url(self, value):
        return str(int(value))


def positive_int(value) -> int:
    """For `request.args.get(..., type=positive_int)`: 1..2^31-1, else ValueError (the default is used)."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


def calendar_year(value) -> int:
    """A year a calendar can show (1..9999), else ValueError."""
    number = int(value)
    if not 1 <= number <= 9999:
        raise ValueError(value)
    return number


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only: a path, no scheme, no host, no backslash or control characters."""
    target = (target or "").strip()
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
