"""Imports of CSV and XLSX files (interfaces.md "Import files").

Contract (used by the CLI and the console):
- KINDS, KIND_LABELS, COLUMNS: the import kinds, their Chinese names, and their columns (required first).
- run_import(kind, source, period_name, actor, progress=None, filename=None, options=None) -> ImportReport
  validates every row first and raises ImportFailed (nothing written) when any row is bad.
- template_bytes(kind, fmt) -> bytes: a template that imports as an empty file (csv: the header row; xlsx: the
  header, an example row skipped while unchanged, and a second sheet 填写说明); guide_csv(kind) -> bytes: the
  填写说明 of a kind as a CSV of its own; reference lists (``reference``) of towns, units, categories and
  instruments, to look codes up while filling a file.

How a file is read:
- CSV must be UTF-8, with or without a BOM (Excel's "CSV UTF-8"); XLSX is read from its first sheet.
- The first row is the header. A first data row equal to the XLSX template's example row is skipped (see
  ``guide``).
- The header: names are trimmed and compared in lower case; column order is free; unknown,
  missing required and repeated columns are errors. Blank rows are skipped. Line numbers are those the user
  sees: the header is line 1, the first data row line 2 (for CSV, one line per record).
- Dates are YYYY-MM-DD (YYYY/M/D, as Excel writes them in a Chinese locale, is accepted too) or XLSX date
  cells.
- ``rated_at`` is ISO 8601; a time without an offset (or an XLSX date-time cell) is Beijing time
  (Asia/Shanghai), the time zone the platform serves.

The whole file is checked before anything is written, so one bad row leaves the database as it was; the rows
that pass are kept in a spool (spilled to a temporary file past SPILL_ROWS) and written in bulk. Everything
runs in the caller's transaction: the caller commits after run_import returns and rolls back on ImportFailed.

The package, by concern: ``columns`` (kinds, labels, columns), ``guide`` (the 填写说明, templates),
``reference`` (reference lists), ``reading`` (files, header, cells
as text), ``cells`` (one row's typed cell checks), ``report`` (errors and the report), ``spool`` (rows between
the two phases), ``kinds/`` (one module per family of kinds: org, ledger, ratings, responses; ``base`` holds
what they share). This module is the contract above plus the registry of kinds and the run itself.
"""

import re

from flask import current_app

from ...extensions import db
from ...models import PeriodState
from .. import audit, collector
from ..periods import get_or_create_period
from .cells import Row
from .columns import COLUMNS, KIND_LABELS, KINDS
from .guide import EXAMPLE_LINE, GENERAL_NOTES, NOTES, guide_csv, is_example, notes, template_bytes
from .kinds.ledger import Bonuses, CheckPoints, InstitutionScores, Problems
from .kinds.org import Raters, Towns, Units
from .kinds.ratings import Ratings
from .kinds.responses import Responses
from .reading import Table, read_columns
from .reference import REFERENCES, reference_bytes
from .report import Errors, ImportFailed, ImportReport, RowError, file_error
from .spool import CHUNK, Spool

__all__ = [
    "COLUMNS",
    "GENERAL_NOTES",
    "KINDS",
    "KIND_LABELS",
    "NOTES",
    "REFERENCES",
    "ImportFailed",
    "ImportReport",
    "RowError",
    "guide_csv",
    "notes",
    "reference_bytes",
    "run_import",
    "template_bytes",
]

#: kind -> the class that checks and writes its rows; the same kinds, in the same order, as COLUMNS.
HANDLERS = {
    "units": Units,
    "towns": Towns,
    "raters": Raters,
    "responses": Responses,
    "ratings": Ratings,
    "checkpoints": CheckPoints,
    "problems": Problems,
    "bonuses": Bonuses,
    "institution_scores": InstitutionScores,
}


# Every checked record stays alive until the write: the cycle collector would go over them again and again for
# nothing (collector.paused).
@collector.paused()
def run_import(kind, source, period_name, actor="system", progress=None, filename=None, options=None):
    """Import one CSV or XLSX file of `kind` into the period called `period_name` (created if new).

    `source` is a path or a binary stream (then `filename` gives its extension). `options`: for ratings,
    ``code_system`` is "standard" (5 = 非常满意, the default) or "gbt39046" (1 = 非常满意).
    `progress(done, total, label)` is called while checking and while writing. Every row is checked before
    anything is written: if any is bad, ImportFailed lists the problems (the first IMPORT_MAX_ERRORS_SHOWN,
    the rest counted) and nothing is written. Re-importing a file changes nothing. Flushes but does not
    commit: the caller commits.
    """
    if kind not in HANDLERS:
        file_error(f"unknown import kind '{kind}' (expected one of: {', '.join(KINDS)})", f"未知的导入类型“{kind}”")
    report_progress = progress or (lambda done, total, label: None)
    period = get_or_create_period(period_name, actor=actor)
    if period.state is PeriodState.PUBLISHED:
        file_error(
            f"period {period.name} is published: its data are frozen and cannot be imported into",
            f"评价周期{period.name}已发布，数据已冻结，不能再导入",
        )
    config = current_app.config
    errors = Errors(config["IMPORT_MAX_ERRORS_SHOWN"])
    table = Table(source, filename, config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_COLUMNS"])
    filename = filename or table.name
    spool = Spool()
    try:
        cols = read_columns(kind, table.header)
        handler = HANDLERS[kind](period, cols, errors, actor, filename, options)
        handler.prepare()
        names = {i: name for name, i in cols.items()}
        total, rows, batch = table.total, 0, []
        example_skipped = False
        report_progress(0, total, "Checking")
        for block in _blocks(table.rows(), CHUNK):
            # A kind may check a whole block of rows at once (column by column): `plain` holds the record of
            # each row it found plainly valid, None for any other row, which is checked on its own below.
            plain = handler.check_block(block)
            for i, (line, cells) in enumerate(block):
                if rows == 0 and line == EXAMPLE_LINE and not example_skipped and is_example(kind, cols, cells):
                    example_skipped = True  # the template's example row, left as it was: not data
                    continue
                record = plain[i] if plain is not None else None
                if record is None:
                    row = Row(line, cells, cols, errors)
                    if _HIDDEN_ANY.search("".join(c for c in cells if c.__class__ is str)) and not _hidden(row, names):
                        rows += 1  # a NUL byte, or a hidden character in a code: named, the row not checked further
                        continue
                    if len(cells) > len(cols) and any(c != "" for c in cells[len(cols) :]):
                        row.bad(
                            None,
                            next(c for c in cells[len(cols) :] if c != ""),
                            "value '{v}' is outside the header's columns",
                            "“{v}”所在的列没有表头",
                        )
                    record = handler.check(row)
                    if not row.ok:
                        record = None
                rows += 1
                if record is not None:
                    batch.append(record)
                if len(batch) >= CHUNK:
                    _keep(spool, handler.check_chunk(batch), errors)
                    batch = []
                if rows % CHUNK == 0:
                    report_progress(rows, max(total, rows), "Checking")
        if batch:
            _keep(spool, handler.check_chunk(batch), errors)
        handler.finish()
        report_progress(rows, rows, "Checking")
        if errors:
            errors.fail()

        report_progress(0, spool.count, "Writing")
        handler.write(spool, lambda done: report_progress(min(done, spool.count), spool.count, "Writing"))
        report_progress(spool.count, spool.count, "Writing")
    finally:
        spool.close()
        table.close()
    audit.record(actor, "import", "period", period.id, kind=kind, file=filename, rows=rows, **handler.counts)
    db.session.flush()
    return ImportReport(
        kind=kind,
        period=period.name,
        filename=filename,
        rows=rows,
        counts=dict(handler.counts),
        example_skipped=example_skipped,
    )


#: A NUL byte (PostgreSQL refuses it in text, SQLite would store it) and the invisible and direction characters
#: (zero-width spaces and joiners, marks, embeddings and overrides, word joiner, invisible operators, a BOM
#: inside a value): `U021\u200b` would be a second unit shown as U021, U+202E shows text reversed.
_HIDDEN_ANY = re.compile("[\x00\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _is_code(column) -> bool:
    """Is `column` a code or an identifier (compared exactly), not a name or free text?"""
    return column is not None and (column in ("code", "event_id", "case_no") or column.endswith("_code"))


def _hidden(row, names) -> bool:
    """Refuse a NUL byte in any cell and invisible characters in codes (row errors naming the column); strip
    invisible characters from names and free text. False when the row was refused."""
    for i, value in enumerate(row.cells):
        if value.__class__ is not str or not _HIDDEN_ANY.search(value):
            continue
        column = names.get(i)
        shown = value.replace("\x00", "\\0")
        if "\x00" in value:
            row.bad(column, shown, "'{v}' contains a NUL byte", "“{v}”含有空字符（NUL），请删除")
        elif _is_code(column):
            visible = _INVISIBLE.sub("", value)
            row.bad(
                column,
                visible,
                "'{v}' contains invisible or direction characters (e.g. U+200B, U+202E); type the code again",
                "“{v}”含有不可见字符或文字方向控制字符（如U+200B、U+202E），请重新输入该编码",
            )
        else:
            row.cells[i] = _INVISIBLE.sub("", value).strip()
    return row.ok


def _blocks(rows, size):
    """The (line, cells) pairs of `rows` in lists of `size`."""
    block = []
    for item in rows:
        block.append(item)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block


def _keep(spool, records, errors):
    # Once a row is bad nothing will be written: keep checking, stop keeping.
    if not errors:
        spool.extend(records)
