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
