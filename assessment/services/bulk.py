"""Bulk writes shared by imports, the demo city and the ingest paths: one helper each, not five copies.

All of them run in the caller's transaction and only flush; the caller commits.
"""

from operator import itemgetter

from sqlalchemy import JSON, Boolean, Enum, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db

#: Rows per statement for the executemany-based helpers.
CHUNK = 5000


def bulk_insert(model, rows: list[dict], columns=None, constants=None) -> None:
    """Insert many rows fast, in order: COPY on PostgreSQL, one executemany on SQLite.

    `columns`: the names taken from each row (default: every key of the first row); `constants`: column → value
    the same for every row, converted once. Values go through the columns' own bind conversions (enums, UTC
    times, JSON), so they are stored exactly as the ORM stores them; None is SQL NULL (also for JSON columns).
    A clash with a unique constraint raises SQLAlchemy's IntegrityError on every engine (COPY runs on the
    driver, whose own exception is translated), so callers catch one exception.
    """
    if not rows:
        return
    table = model.__table__
    columns = tuple(rows[0] if columns is None else columns)
    constants = constants or {}
    conn = db.session.connection()
    dialect = conn.dialect
    fixed = tuple(_converter(table.c[name].type, dialect)(value) for name, value in constants.items())
    converters = []
    for i, name in enumerate(columns):
        conv = _converter(table.c[name].type, dialect)
        if conv is not _as_is:
            converters.append((i + len(fixed), conv))
    take = itemgetter(*columns)
    if len(columns) == 1:
        tuples = [[*fixed, take(row)] for row in rows]
    else:
        tuples = [[*fixed, *take(row)] for row in rows]
    for values in tuples:
        for i, conv in converters:
            if values[i] is not None:
                values[i] = conv(values[i])
    names = (*constants, *columns)
    quote = dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in names)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        statement = f"COPY {target} FROM STDIN"
        try:
            with conn.connection.driver_connection.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    for values in tuples:
                        copy.write_row(values)
        except dialect.dbapi.IntegrityError as exc:
            raise IntegrityError(statement, None, exc) from exc
    elif dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", list(map(tuple, tuples)))
    else:
        conn.execute(table.insert(), [{**constants, **{name: row[name] for name in columns}} for row in rows])


#: Distinct values a memoised conversion keeps (enums and flags have a handful; a JSON column may have many).
_MEMO_MAX = 256


def _as_is(value):
    return value


def _converter(column_type, dialect):
    """The column type's bind conversion on `dialect` (identity when it has none); memoised for enums, booleans
    and JSON, whose few distinct values recur over a million rows."""
    conv = column_type.dialect_impl(dialect).bind_processor(dialect)
    if conv is None:
        return _as_is
    if isinstance(column_type, (Enum, Boolean, JSON)):
        return _memoized(conv)
    return conv


def _memoized(conv):
    cache = {}

    def convert(value):
        try:
            # By type too (True == 1 in a dict, not in JSON); JSON lists and dicts by their text.
            key = (value.__class__, value if value.__hash__ is not None else repr(value))
            return cache[key]
        except KeyError:
            result = conv(value)
            if len(cache) < _MEMO_MAX:
                cache[key] = result
            return result

    return convert


def insert_new_ids(model, rows: list[dict]) -> list[int]:
    """bulk_insert, then the new rows' ids in the order of `rows` (ids grow in insertion order).

    Only for a writer that knows nobody else inserts into the table meanwhile (the demo load of an empty
    database); it refuses when the count does not match.
    """
    before = db.session.scalar(db.select(func.coalesce(func.max(model.id), 0)))
    bulk_insert(model, rows)
    ids = db.session.scalars(db.select(model.id).where(model.id > before).order_by(model.id)).all()
    if len(ids) != len(rows):
        raise RuntimeError(f"{model.__tablename__}: rows were added by someone else during a bulk load")
    return ids


def insert_ids(model, rows: list[dict], key: tuple[str, ...]) -> list[int]:
    """Insert rows in bulk and return their new ids in the rows' order, found again by the unique `key`.

    (RETURNING in parameter order would make SQLite insert one row per statement.)
    """
    table = model.__table__
    ids = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        db.session.execute(insert(table), chunk)
        query = select(table.c.id, *(table.c[k] for k in key)).where(table.c[key[0]].in_({r[key[0]] for r in chunk}))
        found = {tuple(r[1:]): r[0] for r in db.session.execute(query)}
        ids.extend(found[tuple(r[k] for k in key)] for r in chunk)
    return ids


def bulk_update(model, rows: list[dict]) -> None:
    """UPDATE by primary key in chunks (each row holds the id and the new values)."""
    for start in range(0, len(rows), CHUNK):
        db.session.execute(update(model), rows[start : start + CHUNK])
