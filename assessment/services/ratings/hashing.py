"""The content hash of a rating: one function for the device API, the demo city and imports.

A retry of an event id with the same content is a duplicate; with other content it is a conflict. What counts
as "the same content" is this hash, so every path that stores ratings must compute it here.
"""

import hashlib
from datetime import UTC

import numpy as np


def content_hash(
    event_id,
    unit_code,
    level,
    channel,
    rated_at,
    case_no=None,
    service_item=None,
    staff_code=None,
    comment=None,
    is_default=False,
    stage="",
    real_name=None,
    window=None,
) -> str:
    """sha256 of a rating's canonical text, to tell a duplicate retry from a reuse of an event id (conflict).

    The fields joined by "|", rated_at in UTC ISO 8601 (so +08:00 and Z spellings of one moment agree); stage,
    an explicit real_name and a window are appended only when given, so the text matches the demo city's and
    the hashes the API stored before `window` existed (window=None hashes exactly as before).
    """
    utc = rated_at.astimezone(UTC).isoformat()
    fields = (event_id, unit_code, level, channel, utc, case_no, service_item, staff_code, comment, is_default)
    return _digest(_text(fields, stage, real_name, window))


def content_hashes(
    event_ids, unit_codes, levels, channels, micros, case_nos, service_items, staff_codes, defaults, windows
):
    """content_hash of many imported ratings at once (columns of equal length; an import has no comment, stage or
    real_name): `micros` are the times in whole microseconds since 1970 UTC, and an empty case number, service
    item, staff code or window counts as none."""
    utc_isos = _utc_isos(np.asarray(micros, dtype=np.int64))
    comments = [None] * len(event_ids)
    rows = zip(
        event_ids,
        unit_codes,
        levels,
        channels,
        utc_isos,
        case_nos,
        service_items,
        staff_codes,
        comments,
        defaults,
        strict=True,
    )
    return [_digest(_text(fields, "", None, window or None)) for fields, window in zip(rows, windows, strict=True)]


def _utc_isos(micros: np.ndarray) -> list:
    """content_hash's time text for a column of times: `datetime.isoformat()` in UTC, with seconds, and
    microseconds only when there are any."""
    at = micros.astype("datetime64[us]")
    text = np.datetime_as_string(at, unit="s").astype(object)
    fraction = (micros % 1_000_000) != 0
    if fraction.any():
        text[fraction] = np.datetime_as_string(at[fraction], unit="us").astype(object)
    return (text + "+00:00").tolist()


def _text(fields, stage, real_name, window) -> str:
    """The canonical text: the ten fields (event_id, unit_code, level, channel, UTC ISO time, case_no,
    service_item, staff_code, comment, is_default) joined by "|", then stage, real_name and window when given."""
    event_id, unit_code, level, channel, utc_iso, case_no, service_item, staff_code, comment, is_default = fields
    text = "|".join(
        (
            event_id,
            unit_code or "",
            str(level),
            channel,
            utc_iso,
            case_no or "",
            service_item or "",
            staff_code or "",
            comment or "",
            "1" if is_default else "0",
        )
    )
    if stage:
        text += "|stage=" + stage
    if real_name is not None:
        text += "|real_name=" + ("1" if real_name else "0")
    if window is not None:
        text += "|window=" + window
    return text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
