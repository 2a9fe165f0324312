"""The column-at-a-time check of a block of rating rows (issue 11, part 4), and the time conversions it shares
with the per-row check and the write.

`plain_rows` finds the rows of a block whose cells are all plainly valid text — every check a whole column at
once with pandas and numpy — and builds their records; every other row (a bad cell, a spelling only the cell
getters read, an XLSX object, a repeated event_id or case_no, a hidden character, a cell outside the header)
is left to the per-row check, which names its problems with the exact messages. So a plain row's record is the
one the per-row check would build: the same fields, the same content hash.

A time is kept in a record as whole microseconds since 1970-01-01 UTC (an int), and turned into what each engine
stores only when written (`db_times`).
"""

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from ....models import Channel
from ....timefmt import CST_MICROSECONDS
from ...ratings.connection import sqlite_times, utc_isos
from ...ratings.hashing import content_hashes
from ..guide import EXAMPLE_LINE

#: The columns of a rating file, in the order `plain_rows` reads them.
COLUMNS = (
    "event_id",
    "unit_code",
    "level",
    "channel",
    "rated_at",
    "is_default",
    "case_no",
    "window",
    "service_item",
    "staff_code",
)
#: A NUL byte or an invisible or direction character (as the run's own check, imports._HIDDEN_ANY).
_HIDDEN = re.compile("[\x00\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
#: The one spelling of rated_at checked here: ISO 8601 with seconds, at most microseconds, an optional offset
#: below 24 hours (or Z). Within it `datetime.fromisoformat` and pandas read the same moment; anything else
#: (other spellings, and what pandas cannot hold) is left to the per-row check.
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?")
_OFFSET = re.compile(r".*(?:Z|[+-]\d{2}:\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since 1970-01-01 UTC."""
    return (moment - _EPOCH) // _US


def db_times(micros, dialect: str) -> list:
    """Times (microseconds since 1970, UTC) as the engine takes them: on SQLite the text SQLAlchemy stores
    ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), on PostgreSQL timestamptz text for COPY."""
    if dialect == "sqlite":
        return sqlite_times(micros)
    return [t + "+00" for t in utc_isos(micros)]


def _column(columns, cols, name, n):
    """The cells of column `name` as an object array ("" everywhere when the file has no such column)."""
    i = cols.get(name)
    if i is None or i >= len(columns):
        return np.full(n, "", dtype=object)
    return columns[i]


def _lengths(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def _moments(values: np.ndarray, ok: np.ndarray):
    """(microseconds UTC, valid) of rated_at cells in the one spelling checked here; a time without an offset
    is Beijing time."""
    n = len(values)
    micros = np.zeros(n, dtype=np.int64)
    valid = ok.copy()
    index = np.flatnonzero(valid)
    if not len(index):
        return micros, valid
    text = values[index]
    spelled = np.fromiter((_MOMENT.fullmatch(t) is not None for t in text), dtype=bool, count=len(text))
    index, text = index[spelled], text[spelled]
    valid[:] = False
    if not len(index):
        return micros, valid
    parsed = pd.to_datetime(pd.Series(text, dtype=object), format="ISO8601", utc=True, errors="coerce")
    known = parsed.notna().to_numpy()
    index, text = index[known], text[known]
    at = parsed[known].dt.tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    naive = np.fromiter((_OFFSET.fullmatch(t) is None for t in text), dtype=bool, count=len(text))
    at[naive] -= CST_MICROSECONDS  # read as UTC above: Beijing time is 8 hours ahead
    micros[index] = at
    valid[index] = True
    return micros, valid


def plain_rows(kind, block):
    """The records of the plainly valid rows of `block` ((line, cells) pairs), None for every other row.

    `kind` is the Ratings handler: its maps (units, inactive units), limits, period, code system, and the
    event ids and case numbers seen earlier in the file, which this updates with the rows it accepts.
    """
    n = len(block)
    lines = np.fromiter((line for line, _ in block), dtype=np.int64, count=n)
    rows = [cells for _, cells in block]
    width = max(map(len, rows))
    if any(len(cells) != width for cells in rows):
        rows = [cells if len(cells) == width else cells + [""] * (width - len(cells)) for cells in rows]
    columns = [np.array(column, dtype=object) for column in zip(*rows, strict=True)]
    ok = lines != EXAMPLE_LINE  # the template's example row is the run's to recognise
    for i, values in enumerate(columns):
        if infer_dtype(values, skipna=False) != "string":  # XLSX numbers, dates, blanks as None
            ok &= np.fromiter((v.__class__ is str for v in values), dtype=bool, count=n)
            text = [v for v in values if v.__class__ is str]
        else:
            text = values
        if i >= len(kind.cols):
            ok &= values == ""  # a value outside the header's columns
        if _HIDDEN.search("\x1f".join(text)):
            ok &= np.fromiter(
                (v.__class__ is not str or _HIDDEN.search(v) is None for v in values), dtype=bool, count=n
            )
    if not ok.any():
        return None
    cols, limits = kind.cols, kind.max
    event_id, unit_code, level, channel, rated_at, is_default, case_no, window, service_item, staff_code = (
        np.where(ok, _column(columns, cols, name, n), "") for name in COLUMNS
    )
    size = _lengths(event_id)
    ok &= (size > 0) & (size <= limits["event_id"])
    for name, values in (
        ("case_no", case_no),
        ("window", window),
        ("service_item", service_item),
        ("staff_code", staff_code),
    ):
        ok &= _lengths(values) <= limits[name]
    unit_id = pd.Series(unit_code, dtype=object).map(kind.units)
    ok &= unit_id.notna().to_numpy()
    if kind.inactive:
        ok &= ~pd.Series(unit_code, dtype=object).isin(kind.inactive).to_numpy()
    raw = pd.Series(level, dtype=object).map(_LEVELS)
    ok &= raw.notna().to_numpy()
    ok &= pd.Series(channel, dtype=object).isin(_CHANNELS).to_numpy()
    default = pd.Series(is_default, dtype=object).map(_FLAGS)
    ok &= default.notna().to_numpy()
    micros, valid = _moments(rated_at, ok)
    ok &= valid
    local_day = (micros + CST_MICROSECONDS) // 86_400_000_000
    ok &= (local_day >= kind.first_day) & (local_day <= kind.last_day)
    # An event id or a case number met before, or twice in this block, is the per-row check's to name.
    ids = pd.Series(_column(columns, cols, "event_id", n), dtype=object)
    ok &= ~ids.duplicated(keep=False).to_numpy()
    if kind.seen:
        seen = kind.seen
        ok &= np.fromiter((e not in seen for e in ids.tolist()), dtype=bool, count=n)
    if "case_no" in cols:
        cases = pd.Series(_column(columns, cols, "case_no", n), dtype=object)
        given = (cases != "").to_numpy()
        ok &= ~(given & cases.duplicated(keep=False).to_numpy())
        if kind.cases:
            earlier = kind.cases
            ok &= np.fromiter((c not in earlier for c in cases.tolist()), dtype=bool, count=n)
    index = np.flatnonzero(ok)
    if not len(index):
        return None
    out = [None] * n
    event_id, unit_code, channel, case_no, window, service_item, staff_code = (
        values[index].tolist() for values in (event_id, unit_code, channel, case_no, window, service_item, staff_code)
    )
    raw = raw.to_numpy()[index].astype(np.int64)
    levels = raw if kind.code_system.value == "standard" else 6 - raw
    raw, levels = raw.tolist(), levels.tolist()
    default = default.to_numpy()[index].astype(bool).tolist()
    micros = micros[index]
    unit_id = unit_id.to_numpy()[index].astype(np.int64).tolist()
    digests = content_hashes(
        event_id, unit_code, levels, channel, micros, case_no, service_item, staff_code, default, window
    )
    line = lines[index].tolist()
    records = list(
        zip(
            line,
            event_id,
            unit_id,
            levels,
            raw,
            channel,
            micros.tolist(),
            default,
            [c or None for c in case_no],
            [w or None for w in window],
            [s or None for s in service_item],
            [s or None for s in staff_code],
            digests,
            strict=True,
        )
    )
    for i, record in zip(index.tolist(), records, strict=True):
        out[i] = record
    kind.seen.update(zip(event_id, zip(digests, line, strict=True), strict=True))
    kind.cases.update((c, e) for c, e in zip(case_no, event_id, strict=True) if c)
    return out


_LEVELS = {str(code): code for code in range(1, 6)}
_CHANNELS = tuple(member.value for member in Channel)
_FLAGS = {"": False, "0": False, "1": True}
