"""The connection the ratings code writes on: the API's own unit of work, or else the session's.

The device API does not need the ORM: `unit_of_work.submit` opens a connection of its own and sets it here for the
length of one batch, so that ingest, flags and cases all run their statements in that one transaction (or, for
a single rating that needs only its insert, that one statement in autocommit: unit_of_work._write_alone).
Everywhere else (console, imports, commands) the request's or command's session is used, and its owner
commits.
"""

from contextvars import ContextVar
from datetime import UTC, datetime

import numpy as np

from ...extensions import db

#: The connection of the API's unit of work (see unit_of_work.submit); None elsewhere (then the session's is used).
current = ContextVar("ratings_connection", default=None)


def run(statement, params=None):
    """Execute a Core statement on the unit of work's connection (an executemany when params is a list)."""
    connection = current.get()
    return (connection or db.session.connection()).execute(statement, params)


def dialect_name() -> str:
    """The database dialect of that connection: "sqlite" or "postgresql"."""
    connection = current.get()
    return connection.dialect.name if connection is not None else db.session.get_bind().dialect.name


_DRIVER_SQL = {}


def sqlite_time(moment: datetime) -> str:
    """An aware datetime as SQLAlchemy stores it in SQLite: UTC text "YYYY-MM-DD HH:MM:SS.ffffff", the year
    always four digits (strftime's %Y would write year 999 as "999") and the microseconds always there."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def utc_isos(micros) -> list[str]:
    """Times in whole microseconds since 1970 UTC as ISO text "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC, no offset)."""
    return np.datetime_as_string(np.asarray(micros, dtype="datetime64[us]"), unit="us").tolist()


def sqlite_times(micros) -> list[str]:
    """sqlite_time of a column of times in whole microseconds since 1970 UTC (the import's records)."""
    return [t[:10] + " " + t[11:] for t in utc_isos(micros)]


def _sqlite_value(value):
    return sqlite_time(value) if isinstance(value, datetime) else value


def rows_on_driver(statement, params: dict, connection=None, column_keys: list | None = None) -> list[tuple]:
    """The rows a Core statement returns, run straight on the driver's cursor, as the driver gives them.

    For the hot path's small statements (the burst-neighbour read, the single rating's insert): SQLAlchemy's
    per-execute work (cache key, parameter processing, result wrapping) costs more than the query. The
    statement is compiled once per dialect and set of parameter names (`column_keys`: the columns an INSERT
    sets); its literal values (e.g. `level == 5`) come from the compiled form. No parameter may be an
    expanding IN list. Values: aware datetimes are sent as SQLAlchemy stores them (UTC text on SQLite); what
    comes back is the driver's (SQLite gives times back as that text, see `utc_of`). Runs on `connection`,
    else the unit of work's, else the session's; a write joins that connection's transaction only if the
    caller has begun one through SQLAlchemy (see insert.insert_one).
    """
    connection = connection or current.get() or db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    key = (connection.dialect.name, statement, tuple(params))
    compiled = _DRIVER_SQL.get(key)
    if compiled is None:
        done = statement.compile(dialect=connection.dialect, column_keys=column_keys)
        order = tuple(done.positiontup) if sqlite else None
        compiled = _DRIVER_SQL[key] = (str(done), dict(done.params), order)
    sql, literals, order = compiled
    values = {**literals, **params}
    if sqlite:
        values = [_sqlite_value(values[name]) for name in order]
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, values)
        return cursor.fetchall()
    finally:
        cursor.close()


def utc_of(value) -> datetime:
    """A time as rows_on_driver gives it back (aware datetime, or SQLite's UTC text), as an aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value
