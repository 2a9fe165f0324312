"""The connection the ratings code writes on: the API's own unit of work, or else the session's.

The device API does not need the ORM: `ingest.submit` opens a connection of its own and sets it here for the
length of one batch, so that ingest, flags and cases all run their statements in that one transaction.
Everywhere else (console, imports, commands) the request's or command's session is used, and its owner
commits.
"""

from contextvars import ContextVar

from ...extensions import db

#: The connection of the API's unit of work (see ingest.submit); None elsewhere (then the session's is used).
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


def rows_on_driver(statement, params: dict) -> list[tuple]:
    """The rows of a Core SELECT run straight on the PostgreSQL driver's cursor, as the driver gives them.

    For the hot path's small reads: SQLAlchemy's per-execute work costs more than the query. The statement is
    compiled once per set of parameter names; its literal values (e.g. `level == 5`) come from the compiled
    form. PostgreSQL only: psycopg converts the values both ways (SQLite would give times back as text), and
    no parameter may be an expanding IN list.
    """
    connection = current.get() or db.session.connection()
    key = (statement, tuple(params))
    compiled = _DRIVER_SQL.get(key)
    if compiled is None:
        done = statement.compile(dialect=connection.dialect)
        compiled = _DRIVER_SQL[key] = (str(done), {name: value for name, value in done.params.items()})
    sql, literals = compiled
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, {**literals, **params})
        return cursor.fetchall()
    finally:
        cursor.close()
