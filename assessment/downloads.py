"""The one way a route sends a file: Content-Disposition per RFC 6266 / RFC 5987, never cached.

A period may be named in Chinese; an HTTP header holds only Latin-1, so the name goes in `filename*` as UTF-8
percent-encoded, with a plain ASCII `filename` beside it for old clients.
"""

import re
from urllib.parse import quote

from flask import Response

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…` for any file name (RFC 6266, RFC 5987)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ascii_stem = re.sub("_{2,}", "_", _UNSAFE_ASCII.sub("_", stem)).strip("_") or "download"
    fallback = ascii_stem + (f".{_UNSAFE_ASCII.sub('', ext)}" if ext else "")
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def attachment(data: bytes | str, filename: str, mimetype: str) -> Response:
    """A response that downloads `data` as `filename` (any characters), with Cache-Control: no-store."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response
