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
from ...ratings.flags import flags_of, is_flagged, odd_hours
from .rating_block import db_times

#: The flags a rating is written with, by (is_default, at an odd hour), and whether they make it suspected.
_FLAGS = {(d, o): flags_of(d, o) for d in (False, True) for o in (False, True)}
_FLAGGED = {key: is_flagged(flags) for key, flags in _FLAGS.items()}
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
#: The columns written from each record (after the import's constants), then `flags`, `flagged` and
#: `real_name`.
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
#: SQLite: an import of at least this many rows, and at least REBUILD_SHARE of the ratings already stored,
#: drops the table's plain (non-unique) indexes and builds them again once written (see RatingWriter).
REBUILD_FROM_ROWS = 50_000
REBUILD_SHARE = 0.25


class RatingWriter:
    """Inserts checked records into public_ratings on the driver, a chunk at a time: COPY on PostgreSQL, one
    executemany on SQLite. Every value is what the columns' own conversions make of it (as services/bulk.py
    stores rows), built a column at a time.

    Used as a context manager. On SQLite, whose count trigger runs once per row (about a third of the cost of
    an insert), the trigger is dropped for the import's own inserts and created again from its stored text
    at the end, in the same transaction, and rating_counts gets one upsert per key instead: the import holds
    SQLite's one write lock from the first statement on, so no other writer inserts meanwhile, and a failure
    rolls the drop back with everything else. PostgreSQL's trigger already runs once per statement.

    A large import on SQLite (`rows` at least REBUILD_FROM_ROWS and REBUILD_SHARE of the stored ratings) also
    drops the table's plain indexes — those that serve reads, not the UNIQUE constraints that decide
    duplicates — and creates them again from their stored text at the end, in the same transaction: one sort
    per index instead of a B-tree insert per row and index, which makes the write of a million ratings about
    a third faster. Readers never see the table without them (WAL: they read the last commit), and a failure
    rolls the drops back. Against a table much larger than the import, rebuilding would cost more than it saves,
    so the indexes stay. PostgreSQL keeps its indexes (dropping one there locks the table against readers).
    """

    def __enter__(self):
        self.keys = Counter()
        self.trigger = None
        self.indexes = []
        if self.dialect.name == "sqlite":
            if not self.conn.connection.driver_connection.in_transaction:
                # Python's sqlite3 opens a transaction before an INSERT, never before a DROP: without this, a
                # drop made before the import's first insert would be committed at once, and a failed import
                # would roll back only the statements that put the trigger and indexes back. IMMEDIATE: the
                # write lock is taken now (waiting busy_timeout for it), not by the DROP after a read, which
                # SQLite would refuse at once if another writer had committed in between.
                self.conn.exec_driver_sql("BEGIN IMMEDIATE")
            self.trigger = self.conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_COUNT_TRIGGER,)
            ).scalar()
            if self.trigger is not None:
                self.conn.exec_driver_sql(f"DROP TRIGGER {_COUNT_TRIGGER}")
            if self.rows >= REBUILD_FROM_ROWS:
                stored = self.conn.exec_driver_sql(f"SELECT max(id) FROM {self.table.name}").scalar() or 0
                if self.rows >= REBUILD_SHARE * stored:
                    self._drop_indexes()
        return self

    def _drop_indexes(self):
        """Drop the table's plain indexes (SQLite), keeping their text to create them again."""
        self.indexes = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
            "AND sql NOT LIKE 'CREATE UNIQUE%'",
            (self.table.name,),
        ).all()
        for name, _ in self.indexes:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')

    def _restore(self):
        """Create the trigger and the indexes again from their stored text."""
        for _, sql in self.indexes:
            self.conn.exec_driver_sql(sql)
        if self.trigger is not None:
            self.conn.exec_driver_sql(self.trigger)

    def __exit__(self, kind, error, traceback):
        if self.trigger is None and not self.indexes:
            return
        if kind is not None:
            # The import failed and its transaction is being given up: put the trigger and indexes back if the
            # connection still can, and let the import's own error through.
            with suppress(DBAPIError):
                self._restore()
            return
        self._restore()
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

    def __init__(self, period_id, code_system, now, rows=0):
        conn = db.session.connection()
        self.rows = rows  # how many records will be inserted (decides the index rebuild on SQLite)
        self.flagged = 0  # how many were written with the odd_hour flag
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
            "excluded": False,
        }
        self.names = (*constants, *_WRITTEN, "flags", "flagged", "real_name")
        self.copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        if self.copy:
            text = {None: "\\N", True: "t", False: "f"}
            values = {**constants, "code_system": code_system.value, "received_at": now.isoformat()}
            self.constants = tuple(text[v] if v is None or v is True or v is False else str(v) for v in values.values())
            self.booleans = {True: "t", False: "f"}
            self.flag_values = {key: json.dumps(flags) if flags else "\\N" for key, flags in _FLAGS.items()}
            self.null = "\\N"
        else:
            self.constants = tuple(bind(name, value) for name, value in constants.items())
            self.booleans = {True: bind("is_default", True), False: bind("is_default", False)}
            self.flag_values = {key: bind("flags", flags) if flags else None for key, flags in _FLAGS.items()}
            self.null = None
            self.channels = {m.value: bind("channel", m) for m in Channel}
        quote = dialect.identifier_preparer
        self.target = f"{quote.format_table(table)} ({', '.join(quote.quote(name) for name in self.names)})"

    def insert(self, chunk):
        """Insert one chunk of records."""
        n = len(chunk)
        columns = list(zip(*chunk, strict=True))
        booleans = self.booleans
        defaults = columns[DEFAULT]
        odd = odd_hours(columns[CHANNEL], columns[RATED_AT])
        flag_values = self.flag_values
        flags = [flag_values[key] for key in zip(defaults, odd, strict=True)]
        flagged = [booleans[_FLAGGED[key]] for key in zip(defaults, odd, strict=True)]
        self.flagged += sum(odd)
        real_name = [booleans[c is not None] for c in columns[CASE_NO]]
        times = db_times(columns[RATED_AT], self.dialect.name)
        if self.copy:
            self._copy(columns, times, flags, flagged, real_name, n)
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
            flagged,
            real_name,
        ]
        marks = ", ".join("?" * len(self.names))
        rows = list(zip(*(repeat(c, n) for c in self.constants), *written, strict=True))
        self.conn.exec_driver_sql(f"INSERT INTO {self.target} VALUES ({marks})", rows)
        if self.trigger is not None:  # what the trigger would have counted (none is excluded)
            self.keys.update(zip(columns[UNIT_ID], columns[LEVEL], defaults, strict=True))

    def _copy(self, columns, times, flags, flagged, real_name, n):
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
            flagged,
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
