"""The write of checked ratings: the record layout shared with the checks, and the insert on the driver
(COPY on PostgreSQL, executemany on SQLite), with the one-parameter IN the import's lookups use."""

import json
from collections import Counter
from contextlib import suppress
from itertools import repeat

from sqlalchemy import String, any_, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError

from ....extensions import db
from ....models import Channel, PublicRating
from .rating_block import db_times

#: The flags of a default rating: marked, not suspected (`flagged` stays false).
DEFAULT_FLAGS = ["default"]
#: A checked rating, as a tuple (compact in the spool): the fields in this order. `channel` is the code,
#: `rated_at` whole microseconds since 1970 UTC (`rating_block.to_micros`).
_RECORD = (
    "line",
    "event_id",
    "unit_id",
    "level",
    "raw_code",
    "channel",
    "rated_at",
    "is_default",
    "case_no",
    "window",
    "service_item",
    "staff_code",
    "content_hash",
)
LINE, EVENT_ID, UNIT_ID, LEVEL, RAW, CHANNEL, RATED_AT, DEFAULT, CASE_NO, WINDOW, SERVICE_ITEM, STAFF, HASH = range(13)
#: The columns written from each record (after the import's constants), then `flags` and `real_name`.
_WRITTEN = _RECORD[1:]


def among(column, values):
    """`column IN (values)` with one parameter, however many values: an array on PostgreSQL, a JSON list read
    by json_each on SQLite (an IN list of thousands of parameters costs more to build than to run)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(String)))
    listed = select(literal_column("value")).select_from(func.json_each(literal(json.dumps(list(values)))))
    return column.in_(listed.scalar_subquery())


#: The SQLite trigger that keeps rating_counts one upsert per inserted rating (migration 0005).
_COUNT_TRIGGER = "public_ratings_count_insert"


class RatingWriter:
    """Inserts checked records into public_ratings on the driver, a chunk at a time: COPY on PostgreSQL, one
    executemany on SQLite. Every value is what the columns' own conversions make of it (as services/bulk.py
    stores rows), built a column at a time.

    Used as a context manager. On SQLite, whose count trigger runs once per row (about a third of the cost of
    an insert), the trigger is dropped for the import's own inserts and created again from its stored text
    at the end, in the same transaction, and rating_counts gets one upsert per key instead: the import holds
    SQLite's one write lock from the first statement on, so no other writer inserts meanwhile, and a failure
    rolls the drop back with everything else. PostgreSQL's trigger already runs once per statement.
    """

    def __enter__(self):
        self.keys = Counter()
        self.trigger = None
        if self.dialect.name == "sqlite":
            self.trigger = self.conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_COUNT_TRIGGER,)
            ).scalar()
            if self.trigger is not None:
                self.conn.exec_driver_sql(f"DROP TRIGGER {_COUNT_TRIGGER}")
        return self

    def __exit__(self, kind, error, traceback):
        if self.trigger is None:
            return
        if kind is not None:
            # The import failed and its transaction is being given up: put the trigger back if the connection
            # still can, and let the import's own error through.
            with suppress(DBAPIError):
                self.conn.exec_driver_sql(self.trigger)
            return
        self.conn.exec_driver_sql(self.trigger)
        if self.keys:
            period_id = self.constants[0]
            self.conn.exec_driver_sql(
                "INSERT INTO rating_counts (period_id, unit_id, level, is_default, n) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (period_id, unit_id, level, is_default) DO UPDATE SET n = n + excluded.n",
                [
                    (period_id, unit, level, self.booleans[default], n)
                    for (unit, level, default), n in self.keys.items()
                ],
            )

    def __init__(self, period_id, code_system, now):
        conn = db.session.connection()
        self.conn = conn
        self.dialect = dialect = conn.dialect
        table = PublicRating.__table__
        self.table = table

        def bind(name, value):
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            return value if value is None or process is None else process(value)

        constants = {
            "period_id": period_id,
            "origin": "import",
            "device_id": None,
            "code_system": code_system,
            "stage": "",
            "received_at": now,
            "flagged": False,
            "excluded": False,
        }
        self.names = (*constants, *_WRITTEN, "flags", "real_name")
        self.copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        if self.copy:
            text = {None: "\\N", True: "t", False: "f"}
            values = {**constants, "code_system": code_system.value, "received_at": now.isoformat()}
            self.constants = tuple(text[v] if v is None or v is True or v is False else str(v) for v in values.values())
            self.booleans = {True: "t", False: "f"}
            self.default_flags = json.dumps(DEFAULT_FLAGS)
            self.null = "\\N"
        else:
            self.constants = tuple(bind(name, value) for name, value in constants.items())
            self.booleans = {True: bind("is_default", True), False: bind("is_default", False)}
            self.default_flags = bind("flags", DEFAULT_FLAGS)
            self.null = None
            self.channels = {m.value: bind("channel", m) for m in Channel}
        quote = dialect.identifier_preparer
        self.target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in self.names)})"

    def insert(self, chunk):
        """Insert one chunk of records."""
        n = len(chunk)
        columns = list(zip(*chunk, strict=True))
        booleans, null = self.booleans, self.null
        defaults = columns[DEFAULT]
        flags = [self.default_flags if d else null for d in defaults]
        real_name = [booleans[c is not None] for c in columns[CASE_NO]]
        times = db_times(columns[RATED_AT], self.dialect.name)
        if self.copy:
            self._copy(columns, times, flags, real_name, n)
            return
        written = [
            columns[EVENT_ID],
            columns[UNIT_ID],
            columns[LEVEL],
            columns[RAW],
            [self.channels[c] for c in columns[CHANNEL]],
            times,
            [booleans[d] for d in defaults],
            *columns[CASE_NO : HASH + 1],
            flags,
            real_name,
        ]
        marks = ", ".join("?" * len(self.names))
        rows = list(zip(*(repeat(c, n) for c in self.constants), *written, strict=True))
        self.conn.exec_driver_sql(f"INSERT INTO {self.target} VALUES ({marks})", rows)
        if self.trigger is not None:  # what the trigger would have counted (none is excluded)
            self.keys.update(zip(columns[UNIT_ID], columns[LEVEL], defaults, strict=True))

    def _copy(self, columns, times, flags, real_name, n):
        """COPY the chunk as text (tab-separated, \\N for NULL, backslash escapes)."""
        null, booleans = self.null, self.booleans
        written = [
            _copy_text(columns[EVENT_ID], null),
            map(str, columns[UNIT_ID]),
            map(str, columns[LEVEL]),
            map(str, columns[RAW]),
            columns[CHANNEL],
            times,
            [booleans[d] for d in columns[DEFAULT]],
            *(_copy_text(columns[i], null) for i in range(CASE_NO, STAFF + 1)),
            columns[HASH],
            flags,
            real_name,
        ]
        prefix = "\t".join(self.constants) + "\t"
        body = "".join(prefix + "\t".join(row) + "\n" for row in zip(*written, strict=True))
        statement = f"COPY {self.target} FROM STDIN"
        try:
            with self.conn.connection.driver_connection.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    copy.write(body)
        except self.dialect.dbapi.IntegrityError as exc:
            raise IntegrityError(statement, None, exc) from exc


#: What COPY's text format escapes.
_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(values, null):
    """Text values for COPY: escaped where needed, None as NULL."""
    values = [null if v is None else v for v in values]
    joined = "".join(v for v in values if v is not null)
    if any(c in joined for c in "\\\t\n\r"):
        values = [v if v is null else v.translate(_COPY_SPECIAL) for v in values]
    return values
