"""What every import kind does (Kind: check rows, check chunks against the database, write) and the upsert
that most kinds share (Upsert: update the row with the same key, or add one)."""

from collections.abc import Callable
from typing import ClassVar

from sqlalchemy import insert, select

from ....extensions import db
from ...bulk import bulk_update
from ..cells import Row
from ..spool import CHUNK, Spool


class Kind:
    """One import kind: check each row, then check a chunk against the database, then write."""

    def __init__(self, period, cols, errors, actor, filename, options):
        self.period = period
        self.cols = cols
        self.errors = errors
        self.actor = actor
        self.filename = filename
        self.options = options or {}
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}

    def prepare(self):
        """Load what row checks need from the database (codes → ids), once."""

    def check(self, row: Row):
        """Check one row; return the record to write, or None to skip it (bad rows record errors)."""
        raise NotImplementedError

    def check_block(self, block):
        """Check a block of rows ((line, cells) pairs) at once: a list with the record of each row found plainly
        valid, and None for every other row, which `check` then checks on its own (for its exact messages); or
        None when the kind checks every row on its own. A row's record here must be what `check` would return,
        and the kind's state (rows seen so far) must end up as `check` would leave it."""
        return None

    def check_chunk(self, records):
        """Checks against the database done a chunk at a time; return the records to write."""
        return records

    def finish(self):
        """Checks that need the whole file."""

    def write(self, spool: Spool, tick: Callable[[int], None]):
        """Write the spooled records (flush only); call `tick(done)` now and then for progress."""
        raise NotImplementedError

    # helpers ------------------------------------------------------------------------------------------------
    def code_map(self, model):
        """code -> id of every row of `model` (units, towns …)."""
        return dict(db.session.execute(select(model.code, model.id)).all())

    def lookup(self, row, column, mapping, en_what, zh_what, required=True):
        """The id of the code in `column`, or None with an error when the code is unknown."""
        code = row.text(column, required)
        if code is None:
            return None
        found = mapping.get(code)
        if found is None:
            row.bad(column, code, f"unknown {en_what} '{{v}}'", f"{zh_what}“{{v}}”不存在")
        return found


class Upsert(Kind):
    """Kinds whose rows update the row with the same key, or add one (units, towns, ledger items)."""

    model = None
    #: Fields making a row's identity (besides the period for period-scoped kinds).
    key = ()
    #: Column shown when a key appears twice in the file.
    key_column = ""
    #: Fields the file may change, with the column each comes from (None: always written).
    fields: ClassVar[dict] = {}
    period_scoped = True

    def prepare(self):
        super().prepare()
        self.first_line = {}
        self.field_names = [f for f, col in self.fields.items() if col is None or col in self.cols]

    def check(self, row):
        record = self.parse(row)
        if record is None or not row.ok:
            return None
        key = tuple(record[k] for k in self.key)
        first = self.first_line.get(key)
        if first is not None:
            row.bad(
                self.key_column,
                row.raw(self.key_column),
                f"{self.duplicate_en} appears twice in the file (first on line {first})",
                f"{self.duplicate_zh}在文件中重复（首次出现在第{first}行）",
            )
            return None
        self.first_line[key] = row.line
        return record

    duplicate_en = "'{v}'"
    duplicate_zh = "“{v}”"

    def parse(self, row):
        raise NotImplementedError

    def derive(self, record, existing):
        """Fields computed from the record and the stored values (None for a new row)."""
        return record

    def insert_new(self, new):
        """Insert the new rows: a Core insert, not bulk_insert, so they take the columns' Python defaults
        (active, created_at)."""
        for start in range(0, len(new), CHUNK):
            db.session.execute(insert(self.model.__table__), new[start : start + CHUNK])

    def written(self, changed):
        """After the updates (`changed`: each the row's id and its changed fields): what else the kind records."""

    def write(self, spool, tick):
        """Write the spooled records (flush only); call `tick(done)` now and then for progress."""
        model = self.model
        names = list(self.field_names)
        query = select(model.id, *(getattr(model, k) for k in self.key), *(getattr(model, f) for f in names))
        if self.period_scoped:
            query = query.where(model.period_id == self.period.id)
        nkey = len(self.key)
        existing = {
            tuple(r[1 : 1 + nkey]): (r[0], dict(zip(names, r[1 + nkey :], strict=True)))
            for r in db.session.execute(query)
        }
        new, changed = [], []
        done = 0
        for record in spool:
            key = tuple(record[k] for k in self.key)
            found = existing.get(key)
            if found is None:
                record = self.derive(record, None)
                if self.period_scoped:
                    record["period_id"] = self.period.id
                new.append(record)
            else:
                row_id, stored = found
                record = self.derive(record, stored)
                diff = {f: record[f] for f in names if record[f] != stored[f]}
                if diff:
                    diff["id"] = row_id
                    changed.append(diff)
                else:
                    self.counts["unchanged"] += 1
            done += 1
            if done % CHUNK == 0:
                tick(done)
        self.insert_new(new)
        bulk_update(model, changed)
        self.written(changed)
        self.counts["created"] = len(new)
        self.counts["updated"] = len(changed)
        tick(done)
