"""The ingest path's batch INSERT … ON CONFLICT DO NOTHING RETURNING, built once per dialect.

This is the one insert of ratings that cannot go through services/bulk.py: it must skip the rows that are
already stored (exactly once is UNIQUE(origin, event_id) and UNIQUE(case_no, stage)) and say which rows it
inserted, in the API's own transaction, at the cost of a few microseconds per row.
"""

import json
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite

from ...models import PublicRating
from ...models.base import UTCDateTime
from .connection import dialect_name, rows_on_driver, sqlite_time
from .flags import burst_guard

_R = PublicRating.__table__

_INSERTS = {}


def _plain_type(column_type, dialect):
    """The type a VALUES insert binds a column with: the driver-level value the row already holds."""
    if isinstance(column_type, SAEnum):
        return String()
    if dialect != "sqlite":
        if isinstance(column_type, UTCDateTime):
            return DateTime(timezone=True)
        return JSON(none_as_null=True) if isinstance(column_type, JSON) else column_type
    if isinstance(column_type, UTCDateTime):
        return String()
    if isinstance(column_type, JSON):
        return Text()
    if isinstance(column_type, Boolean):
        return Integer()
    return column_type


def _array_of(column_type):
    """The PostgreSQL array type the batch insert sends a column as (JSON goes as text and is cast back)."""
    if isinstance(column_type, UTCDateTime):
        return postgresql.ARRAY(DateTime(timezone=True))
    if isinstance(column_type, Boolean):
        return postgresql.ARRAY(Boolean())
    if isinstance(column_type, (Integer, SmallInteger)):
        return postgresql.ARRAY(Integer())
    return postgresql.ARRAY(Text())


_INSERTED = [c.name for c in _R.c if c.name != "id"]


def _unnest(column):
    return func.unnest(bindparam(column.name, type_=_array_of(column.type)))


#: Below this many rows PostgreSQL gets a plain VALUES insert (short enough for the driver to keep parsed).
_PG_UNNEST_FROM = 20


def _plain_table(dialect: str) -> Table:
    """public_ratings with the plain types a driver-level row binds with (`_plain_type`), for a VALUES insert."""
    return Table(
        _R.name, MetaData(), *(Column(c.name, _plain_type(c.type, dialect), primary_key=c.primary_key) for c in _R.c)
    )


def insert_statement(n_rows: int = 1):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, event_id, in the engine's dialect (SQLite ≥ 3.35,
    PostgreSQL).

    Built once per dialect so that a batch costs little per row: on SQLite an executemany whose rows
    `insert_params` has already converted to driver values (UTC text times, enum values, JSON text); on
    PostgreSQL one statement that inserts from unnest() of one array per column (a 1000-row VALUES list would
    be re-parsed by the driver on every batch).
    """
    name = dialect_name()
    if name == "postgresql" and n_rows < _PG_UNNEST_FROM:
        name = "postgresql-values"
    statement = _INSERTS.get(name)
    if statement is None:
        if name == "postgresql":
            source = select(
                *(cast(_unnest(c), JSON) if isinstance(c.type, JSON) else _unnest(c) for c in _R.c if c.name != "id")
            )
            statement = postgresql.insert(_R).from_select(_INSERTED, source)
            returning = (_R.c.id, _R.c.event_id)
        else:
            table = _plain_table(name)
            statement = (sqlite.insert if name == "sqlite" else postgresql.insert)(table)
            returning = (table.c.id, table.c.event_id)
        statement = _INSERTS[name] = statement.on_conflict_do_nothing().returning(*returning)
    return statement


def _guarded_statement(dialect: str, arms: tuple[str, ...]):
    """The single rating's INSERT … SELECT its values WHERE NOT flags.burst_guard … ON CONFLICT DO NOTHING
    RETURNING id, event_id: inserted only when no burst can take it in (built once per dialect and arms)."""
    key = ("guarded", dialect, arms)
    statement = _INSERTS.get(key)
    if statement is None:
        if dialect == "sqlite":
            table = _plain_table(dialect)
            values = [bindparam(name) for name in _INSERTED]
            statement = sqlite.insert(table)
        else:  # typed, as the columns: a bare parameter in a SELECT list would be text to PostgreSQL
            table = _R
            values = [cast(bindparam(c.name), _plain_type(c.type, dialect)) for c in _R.c if c.name != "id"]
            statement = postgresql.insert(table)
        source = select(*values).where(~burst_guard(dialect, arms))
        statement = _INSERTS[key] = (
            statement.from_select(_INSERTED, source).on_conflict_do_nothing().returning(table.c.id, table.c.event_id)
        )
    return statement


def insert_one(connection, params: dict, guard: tuple | None = None) -> list[tuple[int, str]]:
    """Insert one rating (`params` from insert_params) straight on the driver's cursor (rows_on_driver), in the
    unit of work's transaction (or as a statement of its own when the driver is in autocommit).

    The single-rating post is the API's most frequent request, and SQLAlchemy's per-execute work costs more
    than the database's insert itself. PostgreSQL gets the flags as JSON text. Returns [(id, event_id)] when
    inserted, [] when the row was already stored (ON CONFLICT DO NOTHING) or, with `guard` ((arms, values) of
    flags.burst_guard), when a burst may take the rating in: the caller then reads and decides.
    """
    if connection.dialect.name != "sqlite":
        params = {**params, "flags": json.dumps(params["flags"]) if params["flags"] else None}
    if not connection.in_transaction():
        # The cursor is the driver's: without this, SQLAlchemy would not know a transaction is open, its
        # commit() would do nothing and the pool would roll the insert back (a rating answered "accepted" but
        # lost, when nothing else in the unit of work went through SQLAlchemy). In autocommit it is only
        # SQLAlchemy's bookkeeping.
        connection.begin()
    if guard is None:
        rows = rows_on_driver(insert_statement(1), params, connection, column_keys=list(params))
    else:
        driver = connection.connection.driver_connection
        if connection.dialect.name == "sqlite" and driver.isolation_level is not None and not driver.in_transaction:
            # Python's sqlite3 begins a transaction by itself before INSERT, UPDATE, DELETE and REPLACE only; the
            # guarded insert starts with WITH, and without this would commit on its own in the caller's
            # transaction (a group's, unit_of_work._write_group). The driver's own BEGIN, as it would have sent.
            driver.execute(f"BEGIN {driver.isolation_level}")
        arms, values = guard
        rows = rows_on_driver(_guarded_statement(connection.dialect.name, arms), {**params, **values}, connection)
    return [(rating_id, event_id) for rating_id, event_id in rows]


def insert_params(rows: list[dict], now: datetime):
    """The rows as `insert_statement` binds them: driver-level rows (SQLite), arrays by column
    (PostgreSQL)."""
    if dialect_name() == "sqlite":
        received = sqlite_time(now)
        return [
            {
                **row,
                "rated_at": sqlite_time(row["rated_at"]),
                "received_at": received,
                "code_system": row["code_system"].value,
                "channel": row["channel"].value,
                "flags": json.dumps(row["flags"]) if row["flags"] else None,
            }
            for row in rows
        ]
    if len(rows) < _PG_UNNEST_FROM:
        return [{**row, "code_system": row["code_system"].value, "channel": row["channel"].value} for row in rows]
    columns = {name: [row[name] for row in rows] for name in _INSERTED}
    columns["code_system"] = [value.value for value in columns["code_system"]]
    columns["channel"] = [value.value for value in columns["channel"]]
    columns["flags"] = [json.dumps(value) if value else None for value in columns["flags"]]
    return columns
