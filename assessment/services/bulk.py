"""Bulk writes shared by imports, the demo city and the ingest paths: one helper each, not five copies.

All of them run in the caller's transaction and only flush; the caller commits.
"""

from sqlalchemy import Enum, func, insert, select, update

from ..extensions import db

#: Rows per statement for the executemany-based helpers.
CHUNK = 5000


def bulk_insert(model, rows: list[dict]) -> None:
    """Insert many rows fast, in order: COPY on PostgreSQL, one executemany on SQLite.

    Every row has the same keys. Values go through the columns' own bind conversions (enums, UTC times, JSON),
    so they are stored exactly as the ORM stores them; None is SQL NULL (also for JSON columns).
    """
    if not rows:
        return
    table = model.__table__
    columns = list(rows[0])
    conn = db.session.connection()
    dialect = conn.dialect
    converters = []
    for i, name in enumerate(columns):
        conv = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if conv is not None and isinstance(table.c[name].type, Enum):
            conv = _memoized(conv)  # a handful of values, a million rows
        if conv is not None:
            converters.append((i, conv))
    tuples = []
    for row in rows:
        values = [row[name] for name in columns]
        for i, conv in converters:
            if values[i] is not None:
                values[i] = conv(values[i])
        tuples.append(tuple(values))
    quote = dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in columns)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for values in tuples:
                    copy.write_row(values)
    elif dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({', '.join('?' * len(columns))})", tuples)
    else:
        conn.execute(table.insert(), rows)


def _memoized(conv):
    cache = {}

    def convert(value):
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = conv(value)
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
