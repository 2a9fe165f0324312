"""Imports of CSV and XLSX files (interfaces.md "Import files").

Contract (used by the CLI and the console):
- KINDS, KIND_LABELS, COLUMNS: the import kinds, their Chinese names, and their columns (required first).
- run_import(kind, source, period_name, actor, progress=None, filename=None, options=None) -> ImportReport
  validates every row first and raises ImportFailed (nothing written) when any row is bad.
- template_bytes(kind, fmt) -> bytes: an empty template with the header row (csv or xlsx).

How a file is read:
- CSV must be UTF-8, with or without a BOM (Excel's "CSV UTF-8"); XLSX is read from its first sheet.
- The first row is the header: names are trimmed and compared in lower case; column order is free; unknown,
  missing required and repeated columns are errors. Blank rows are skipped. Line numbers are those the user
  sees: the header is line 1, the first data row line 2 (for CSV, one line per record).
- Dates are YYYY-MM-DD (YYYY/M/D, as Excel writes them in a Chinese locale, is accepted too) or XLSX date
  cells.
- ``rated_at`` is ISO 8601; a time without an offset (or an XLSX date-time cell) is Beijing time
  (Asia/Shanghai), the time zone the platform serves.

The whole file is checked before anything is written, so one bad row leaves the database as it was; the rows
that pass are kept in a spool (spilled to a temporary file past SPILL_ROWS) and written in bulk. Everything
runs in the caller's transaction: the caller commits after run_import returns and rolls back on ImportFailed.
"""

import csv
import hashlib
import io
import json
import math
import pickle
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import ClassVar

import yaml
from flask import current_app
from sqlalchemy import and_, insert, select, update

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    AssignmentState,
    BonusItem,
    Channel,
    CheckPoint,
    CheckPointStatus,
    CodeSystem,
    InstitutionScore,
    Instrument,
    PeriodState,
    Problem,
    ProblemSource,
    ProblemState,
    PublicRating,
    Question,
    Rater,
    RaterGroup,
    Response,
    ResponseSource,
    ResponseVersion,
    Severity,
    Town,
    Unit,
    UnitKind,
)
from . import audit
from .bulk import bulk_update as _bulk_update
from .bulk import insert_ids as _insert_ids
from .periods import get_or_create_period
from .workdays import CST

#: kind -> (required columns, optional columns), exactly as interfaces.md lists them.
COLUMNS = {
    "units": (
        ["code", "name", "kind", "category"],
        ["establishment", "actual_staff", "leader_posts", "leaders_in_post"],
    ),
    "towns": (["code", "name"], []),
    "raters": (["code", "name", "group"], ["town_code", "unit_code", "phone"]),
    "responses": (["rater_code", "instrument", "unit_code", "question", "answer"], []),
    "ratings": (
        ["event_id", "unit_code", "level", "channel", "rated_at"],
        ["is_default", "case_no", "window", "service_item", "staff_code"],
    ),
    "checkpoints": (["unit_code", "item", "due", "status"], []),
    "problems": (
        ["unit_code", "title", "source", "severity", "found_on", "deadline"],
        ["closed_on", "category", "responsible"],
    ),
    "bonuses": (["unit_code", "reason", "points"], []),
    "institution_scores": (["unit_code", "score"], []),
}

KINDS = tuple(COLUMNS)

KIND_LABELS = {
    "units": "被评价单位",
    "towns": "镇街",
    "raters": "评价人",
    "responses": "纸质问卷答案",
    "ratings": "好差评记录",
    "checkpoints": "问效点",
    "problems": "问题台账",
    "bonuses": "加分项",
    "institution_scores": "事业单位绩效考核得分",
}

#: Rows checked (and written) per database round trip.
CHUNK = 5000
#: Validated rows kept in memory before the spool moves them to a temporary file.
SPILL_ROWS = 50_000
#: Times without an offset are Beijing time.


# ------------------------------------------------------------------------------------------------------------
# Errors and the report


@dataclass(frozen=True)
class RowError:
    """One problem found in an import file: where it is (line as the user sees it, column) and why.

    ``line`` is None for a problem with the whole file (encoding, period); ``column`` is None when the problem
    is not one cell's (a missing column, a row too long).
    """

    line: int | None
    column: str | None
    value: str | None
    message_en: str
    message_zh: str

    def english(self) -> str:
        """E.g. ``line 7, column level: '6' is not a level 1-5``."""
        where = ", ".join(
            part
            for part in (self.line and f"line {self.line}", self.column and f"column {self.column}")
            if part
        )
        return f"{where}: {self.message_en}" if where else self.message_en

    def chinese(self) -> str:
        """E.g. ``第7行，“level”列：“6”不是1-5的等级``."""
        where = "，".join(
            part for part in (self.line and f"第{self.line}行", self.column and f"“{self.column}”列") if part
        )
        return f"{where}：{self.message_zh}" if where else self.message_zh

    def __str__(self):
        return self.english()


class ImportFailed(Exception):
    """Raised when any row is bad; `errors` lists them all, nothing was written."""

    def __init__(self, errors, truncated=0):
        super().__init__(f"{len(errors) + truncated} bad rows")
        self.errors = errors
        self.truncated = truncated


class _Errors:
    """Collects RowErrors; keeps the first `limit` and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: list[RowError] = []
        self.truncated = 0

    def add(self, line, column, value, en, zh):
        if len(self.items) < self.limit:
            self.items.append(RowError(line, column, value, en, zh))
        else:
            self.truncated += 1

    def __bool__(self):
        return bool(self.items) or self.truncated > 0

    def fail(self):
        ordered = sorted(self.items, key=lambda e: (e.line or 0, e.column or ""))
        raise ImportFailed(ordered, self.truncated)


def _file_error(en, zh, line=None, column=None):
    """Fail at once with one problem of the whole file."""
    raise ImportFailed([RowError(line, column, None, en, zh)])


@dataclass
class ImportReport:
    """What an import did: counts by outcome (created, updated, unchanged, duplicates …)."""

    kind: str
    period: str
    filename: str | None
    #: Data rows read (blank rows left out).
    rows: int
    counts: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One English line for the CLI: ``Imported 120 ratings into 2026: 118 new, 2 duplicates skipped.``"""
        c = self.counts
        if self.kind == "ratings":
            text = (
                f"Imported {self.rows} ratings into {self.period}: {c['created']} new, "
                f"{c['duplicates']} duplicates skipped."
            )
            if c.get("cases"):
                text += f" {c['cases']} bad-rating cases opened."
            if c.get("flagged"):
                text += f" {c['flagged']} ratings flagged for the office to look at."
            return text
        noun = self.kind.replace("_", " ")
        if self.kind == "responses":
            noun = f"answers ({c['responses']} responses)"
        return (
            f"Imported {self.rows} {noun} into {self.period}: {c['created']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged."
        )

    def summary_zh(self) -> str:
        """The same in Chinese, for the console page."""
        c = self.counts
        label = KIND_LABELS[self.kind]
        if self.kind == "ratings":
            text = f"已导入{label}{self.rows}条（评价周期{self.period}）：新增{c['created']}条，重复跳过{c['duplicates']}条。"
            if c.get("cases"):
                text += f"生成差评工单{c['cases']}件。"
            if c.get("flagged"):
                text += f"{c['flagged']}条评价被标记为存疑，请在“存疑评价”中查看。"
            return text
        if self.kind == "responses":
            return (
                f"已导入{label}{self.rows}条（评价周期{self.period}），共{c['responses']}份答卷："
                f"新增{c['created']}份，更新{c['updated']}份，未变化{c['unchanged']}份。"
            )
        return (
            f"已导入{label}{self.rows}条（评价周期{self.period}）：新增{c['created']}条，"
            f"更新{c['updated']}条，未变化{c['unchanged']}条。"
        )


# ------------------------------------------------------------------------------------------------------------
# Reading files


def _norm(value):
    """A cell as text (trimmed), except dates and times from XLSX cells, which stay objects."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value
    return str(value).strip()


def _as_text(value) -> str:
    return value.isoformat() if isinstance(value, (datetime, date, time)) else str(value)


def _show(value) -> str:
    text = _as_text(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Table:
    """The rows of a CSV or XLSX file: `header` (raw), then `rows()` yields (line, cells)."""

    def __init__(self, source, filename):
        self._owned = None
        if isinstance(source, (str, Path)):
            path = Path(source)
            self.name = filename or path.name
            try:
                fh = open(path, "rb")  # noqa: SIM115 (closed by close(), the table outlives this call)
            except OSError as exc:
                _file_error(f"cannot open {path}: {exc.strerror}", f"无法打开文件 {path}")
            self._owned = fh
        else:
            fh = source
            self.name = filename or getattr(source, "name", None) or "upload"
            if not (hasattr(fh, "seekable") and fh.seekable()):
                fh = io.BytesIO(fh.read())
        self.fh = fh
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self):
        fh = self.fh
        ext = Path(str(self.name)).suffix.lower()
        if ext not in (".csv", ".xlsx", ".xlsm"):
            if ext and ext not in (".txt",):
                _file_error(
                    f"unsupported file type '{ext}': save the sheet as CSV UTF-8 or XLSX",
                    f"不支持的文件类型“{ext}”：请另存为“CSV UTF-8”或XLSX格式",
                )
            start = fh.tell()
            magic = fh.read(4)
            fh.seek(start)
            ext = ".xlsx" if magic == b"PK\x03\x04" else ".csv"
        self.is_xlsx = ext != ".csv"
        self.total = 0
        if self.is_xlsx:
            self._open_xlsx()
        else:
            self._open_csv()

    # CSV ----------------------------------------------------------------------------------------------------
    def _open_csv(self):
        start = self.fh.tell()
        newlines = 0
        while block := self.fh.read(1 << 20):
            newlines += block.count(b"\n")
            last = block
        if newlines and not last.endswith(b"\n"):
            newlines += 1
        self.fh.seek(start)
        self.total = max(newlines - 1, 0)
        self._text = io.TextIOWrapper(self.fh, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)
        self._line = 0
        self.header = self._next_csv()

    def _next_csv(self):
        try:
            cells = next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            _file_error(
                "file is not UTF-8 encoded: in Excel choose Save As → 'CSV UTF-8', or import the XLSX file",
                "文件不是UTF-8编码：请在Excel中“另存为”→“CSV UTF-8（逗号分隔）”，或直接导入XLSX文件",
                line=self._line + 1,
            )
        except csv.Error as exc:
            _file_error(f"not a readable CSV file ({exc})", "不是有效的CSV文件", line=self._line + 1)
        self._line += 1
        return cells

    # XLSX ---------------------------------------------------------------------------------------------------
    def _open_xlsx(self):
        import zipfile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._wb = load_workbook(self.fh, read_only=True, data_only=True)
            sheet = self._wb.worksheets[0]
        except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, OSError, ValueError):
            _file_error("not a readable XLSX file", "不是有效的XLSX文件")
        self.total = max((sheet.max_row or 1) - 1, 0)
        self._iter = enumerate(sheet.iter_rows(values_only=True), start=1)
        first = next(self._iter, None)
        self.header = None if first is None else list(first[1])

    # --------------------------------------------------------------------------------------------------------
    def rows(self):
        """(line, list of normalised cells) for each non-blank data row."""
        if self.is_xlsx:
            for line, values in self._iter:
                cells = [_norm(v) for v in values]
                if any(c != "" for c in cells):
                    yield line, cells
            return
        while (cells := self._next_csv()) is not None:
            cells = [c.strip() for c in cells]
            if any(cells):
                yield self._line, cells

    def close(self):
        if getattr(self, "_wb", None) is not None:
            self._wb.close()
        if getattr(self, "_text", None) is not None:
            self._text.detach()
        if self._owned is not None:
            self._owned.close()


def _columns(kind, raw_header) -> dict:
    """Check the header row; return column name -> cell index."""
    if raw_header is None:
        _file_error("the file is empty: a header row is required", "文件为空：第一行须为表头", line=1)
    names = [_as_text(_norm(c)).lstrip("\ufeff").strip().lower() for c in raw_header]
    while names and names[-1] == "":
        names.pop()
    required, optional = COLUMNS[kind]
    problems = []
    if not names:
        _file_error("the header row is empty", "表头行为空", line=1)
    blank = [str(i + 1) for i, n in enumerate(names) if n == ""]
    if blank:
        problems.append((f"columns {', '.join(blank)} have no name", f"第{'、'.join(blank)}列没有列名"))
    seen, twice = set(), []
    for n in names:
        if n and n in seen and n not in twice:
            twice.append(n)
        seen.add(n)
    if twice:
        problems.append((f"repeated columns: {', '.join(twice)}", f"列名重复：{'、'.join(twice)}"))
    unknown = [n for n in dict.fromkeys(names) if n and n not in required and n not in optional]
    if unknown:
        problems.append(
            (
                f"unknown columns: {', '.join(unknown)} (allowed: {', '.join(required + optional)})",
                f"未知的列：{'、'.join(unknown)}（允许的列：{'、'.join(required + optional)}）",
            )
        )
    missing = [n for n in required if n not in seen]
    if missing:
        problems.append(
            (f"missing required columns: {', '.join(missing)}", f"缺少必填列：{'、'.join(missing)}")
        )
    if problems:
        raise ImportFailed([RowError(1, None, None, en, zh) for en, zh in problems])
    return {n: i for i, n in enumerate(names)}


# ------------------------------------------------------------------------------------------------------------
# Cells


_DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASH_DATETIME_RE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_INT_RE = re.compile(r"[+-]?\d+")


def _max_len(model, column):
    return model.__table__.c[column].type.length


class _Row:
    """One data row: typed getters that record a bilingual error for a bad cell and return None."""

    __slots__ = ("cells", "cols", "errors", "line", "ok")

    def __init__(self, line, cells, cols, errors):
        self.line = line
        self.cells = cells
        self.cols = cols
        self.errors = errors
        self.ok = True

    def bad(self, column, value, en, zh):
        """Record a problem with one cell; `en`/`zh` may use {v} for the value."""
        self.ok = False
        shown = _show(value)
        self.errors.add(self.line, column, shown, en.replace("{v}", shown), zh.replace("{v}", shown))

    def raw(self, column):
        i = self.cols.get(column)
        if i is None or i >= len(self.cells):
            return ""
        return self.cells[i]

    def text(self, column, required=False, max_len=None):
        value = self.raw(column)
        if not isinstance(value, str):
            value = _as_text(value)
        if value == "":
            if required:
                self.bad(column, "", "a value is required", "不能为空")
            return None
        if max_len and len(value) > max_len:
            self.bad(
                column, value, f"'{{v}}' is longer than {max_len} characters", f"“{{v}}”超过{max_len}个字符"
            )
            return None
        return value

    def choice(self, column, enum_cls, required=True):
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return enum_cls(value.lower())
        except ValueError:
            allowed = " / ".join(m.value for m in enum_cls)
            self.bad(column, value, f"'{{v}}' is not one of: {allowed}", f"“{{v}}”不是以下之一：{allowed}")
            return None

    def integer(self, column, low=0, high=None, required=False, en=None, zh=None):
        value = self.text(column, required)
        if value is None:
            return None
        number = None
        if _INT_RE.fullmatch(value):
            number = int(value)
        else:
            try:
                as_float = float(value)
            except ValueError:
                as_float = None
            if as_float is not None and as_float.is_integer():
                number = int(as_float)
        if number is None or number < low or (high is not None and number > high):
            if en is None:
                if high is None:
                    en, zh = f"'{{v}}' is not a whole number ≥ {low}", f"“{{v}}”不是不小于{low}的整数"
                else:
                    en, zh = f"'{{v}}' is not a whole number {low}-{high}", f"“{{v}}”不是{low}-{high}的整数"
            self.bad(column, value, en, zh)
            return None
        return number

    def number(self, column, low, high, low_open=False, required=True):
        value = self.text(column, required)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            self.bad(column, value, "'{v}' is not a number", "“{v}”不是数字")
            return None
        if (number <= low if low_open else number < low) or number > high:
            if low_open:
                en, zh = (
                    f"'{{v}}' must be more than {low} and at most {high}",
                    f"“{{v}}”应大于{low}且不超过{high}",
                )
            else:
                en, zh = f"'{{v}}' is not between {low} and {high}", f"“{{v}}”不在{low}-{high}之间"
            self.bad(column, value, en, zh)
            return None
        return number

    def date(self, column, required=True):
        value = self.raw(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if value == "":
            if required:
                self.bad(column, "", "a value is required", "不能为空")
            return None
        match = _DATE_RE.fullmatch(str(value))
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        self.bad(column, value, "'{v}' is not a date (YYYY-MM-DD)", "“{v}”不是有效日期（格式YYYY-MM-DD）")
        return None

    def moment(self, column):
        """An aware UTC datetime; a time without offset is Beijing time."""
        value = self.raw(column)
        parsed = None
        if isinstance(value, datetime):
            parsed = value
        elif value == "":
            self.bad(column, "", "a value is required", "不能为空")
            return None
        elif isinstance(value, str) and len(value) > 10:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                match = _SLASH_DATETIME_RE.fullmatch(value)
                if match:
                    try:
                        parsed = datetime(*(int(g or 0) for g in match.groups()))
                    except ValueError:
                        parsed = None
        if parsed is None:
            self.bad(
                column,
                value,
                "'{v}' is not an ISO 8601 date and time (e.g. 2026-03-01T09:30:00+08:00)",
                "“{v}”不是有效的日期时间（ISO 8601，例如2026-03-01T09:30:00+08:00）",
            )
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=CST)
        return parsed.astimezone(timezone.utc)

    def flag(self, column):
        value = self.text(column)
        if value is None or value == "0":
            return False
        if value == "1":
            return True
        self.bad(column, value, "'{v}' is not 0 or 1", "“{v}”应为0或1")
        return None


# ------------------------------------------------------------------------------------------------------------
# The spool of validated rows


class _Spool:
    """Validated records for the write phase: in memory, moved to a temporary file past SPILL_ROWS."""

    def __init__(self):
        self.buffer = []
        self.file = None
        self.count = 0

    def extend(self, records):
        self.buffer.extend(records)
        self.count += len(records)
        if len(self.buffer) >= SPILL_ROWS:
            if self.file is None:
                self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            pickle.dump(self.buffer, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.buffer = []

    def __iter__(self):
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    block = pickle.load(self.file)
                except EOFError:
                    break
                yield from block
        yield from self.buffer

    def chunks(self, size=CHUNK):
        chunk = []
        for record in self:
            chunk.append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self):
        if self.file is not None:
            self.file.close()


# ------------------------------------------------------------------------------------------------------------
# Kinds


class _Kind:
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

    def check(self, row: _Row):
        """Check one row; return the record to write, or None to skip it (bad rows record errors)."""
        raise NotImplementedError

    def check_chunk(self, records):
        """Checks against the database done a chunk at a time; return the records to write."""
        return records

    def finish(self):
        """Checks that need the whole file."""

    def write(self, spool: _Spool, tick: Callable[[int], None]):
        raise NotImplementedError

    # helpers ------------------------------------------------------------------------------------------------
    def code_map(self, model):
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


class _Upsert(_Kind):
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

    def write(self, spool, tick):
        model = self.model
        names = list(self.field_names)
        query = select(model.id, *(getattr(model, k) for k in self.key), *(getattr(model, f) for f in names))
        if self.period_scoped:
            query = query.where(model.period_id == self.period.id)
        nkey = len(self.key)
        existing = {
            tuple(r[1 : 1 + nkey]): (r[0], dict(zip(names, r[1 + nkey :]))) for r in db.session.execute(query)
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
        for start in range(0, len(new), CHUNK):
            db.session.execute(insert(model.__table__), new[start : start + CHUNK])
        for start in range(0, len(changed), CHUNK):
            db.session.execute(update(model), changed[start : start + CHUNK])
        self.counts["created"] = len(new)
        self.counts["updated"] = len(changed)
        tick(done)


class _Units(_Upsert):
    model = Unit
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields = {
        "name": None,
        "kind": None,
        "category": None,
        "establishment": "establishment",
        "actual_staff": "actual_staff",
        "leader_posts": "leader_posts",
        "leaders_in_post": "leaders_in_post",
    }
    duplicate_en, duplicate_zh = "unit code '{v}'", "单位编码“{v}”"

    def parse(self, row):
        record = {
            "code": row.text("code", True, _max_len(Unit, "code")),
            "name": row.text("name", True, _max_len(Unit, "name")),
            "kind": row.choice("kind", UnitKind),
            "category": row.text("category", True, _max_len(Unit, "category")),
        }
        for column in ("establishment", "actual_staff", "leader_posts", "leaders_in_post"):
            if column in self.cols:
                record[column] = row.integer(column, 0)
        return record


class _Towns(_Upsert):
    model = Town
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields = {"name": None}
    duplicate_en, duplicate_zh = "town code '{v}'", "镇街编码“{v}”"

    def parse(self, row):
        return {
            "code": row.text("code", True, _max_len(Town, "code")),
            "name": row.text("name", True, _max_len(Town, "name")),
        }


class _Raters(_Upsert):
    model = Rater
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields = {"name": None, "group": None, "town_id": "town_code", "unit_id": "unit_code", "phone": "phone"}
    duplicate_en, duplicate_zh = "rater code '{v}'", "评价人编码“{v}”"

    def prepare(self):
        super().prepare()
        self.towns = self.code_map(Town)
        self.units = self.code_map(Unit)

    def parse(self, row):
        record = {
            "code": row.text("code", True, _max_len(Rater, "code")),
            "name": row.text("name", True, _max_len(Rater, "name")),
            "group": row.choice("group", RaterGroup),
        }
        if "town_code" in self.cols:
            record["town_id"] = self.lookup(
                row, "town_code", self.towns, "town code", "镇街编码", required=False
            )
        if "unit_code" in self.cols:
            record["unit_id"] = self.lookup(
                row, "unit_code", self.units, "unit code", "单位编码", required=False
            )
        if "phone" in self.cols:
            record["phone"] = row.text("phone", max_len=_max_len(Rater, "phone"))
        # A department rater rates for its unit (and never rates it in peer review); a grassroots rater
        # belongs to a town.
        if record["group"] is RaterGroup.DEPARTMENT and row.raw("unit_code") == "":
            row.bad("unit_code", "", "a department rater needs a unit_code", "部门评价人须填写所属单位编码")
        if record["group"] is RaterGroup.GRASSROOTS and row.raw("town_code") == "":
            row.bad(
                "town_code", "", "a grassroots rater needs a town_code", "镇街干部评价人须填写所属镇街编码"
            )
        return record


class _UnitScoped(_Upsert):
    """Ledger kinds keyed by the period and the unit (plus an item, a title …)."""

    def prepare(self):
        super().prepare()
        self.units = self.code_map(Unit)

    def unit_id(self, row):
        return self.lookup(row, "unit_code", self.units, "unit code", "单位编码")


class _CheckPoints(_UnitScoped):
    model = CheckPoint
    key = ("unit_id", "item")
    key_column = "item"
    fields = {"due": None, "status": None}
    duplicate_en, duplicate_zh = "check point '{v}' of this unit", "本单位的问效点“{v}”"

    def parse(self, row):
        return {
            "unit_id": self.unit_id(row),
            "item": row.text("item", True, _max_len(CheckPoint, "item")),
            "due": row.date("due"),
            "status": row.choice("status", CheckPointStatus),
        }


class _Problems(_UnitScoped):
    model = Problem
    key = ("unit_id", "title", "found_on")
    key_column = "title"
    fields = {
        "source": None,
        "severity": None,
        "deadline": None,
        "closed_on": "closed_on",
        "category": "category",
        "responsible": "responsible",
        "state": None,
    }
    duplicate_en, duplicate_zh = (
        "problem '{v}' of this unit found on the same day",
        "本单位同日发现的问题“{v}”",
    )

    def parse(self, row):
        record = {
            "unit_id": self.unit_id(row),
            "title": row.text("title", True, _max_len(Problem, "title")),
            "source": row.choice("source", ProblemSource),
            "severity": row.choice("severity", Severity),
            "found_on": row.date("found_on"),
            "deadline": row.date("deadline"),
            "closed_on": row.date("closed_on", required=False),
        }
        for column in ("category", "responsible"):
            if column in self.cols:
                record[column] = row.text(column, max_len=_max_len(Problem, column))
        found = record["found_on"]
        if found and record["deadline"] and record["deadline"] < found:
            row.bad(
                "deadline",
                record["deadline"],
                f"deadline {{v}} is before found_on {found}",
                f"整改期限{{v}}早于发现日期{found}",
            )
        if found and record["closed_on"] and record["closed_on"] < found:
            row.bad(
                "closed_on",
                record["closed_on"],
                f"closed_on {{v}} is before found_on {found}",
                f"销号日期{{v}}早于发现日期{found}",
            )
        return record

    def derive(self, record, existing):
        # A closing date closes (销号) the problem; a problem re-opened by the file goes back to open.
        if record["closed_on"] is not None:
            state = ProblemState.CLOSED
        elif existing is None or existing["state"] is ProblemState.CLOSED:
            state = ProblemState.OPEN
        else:
            state = existing["state"]
        if existing is not None and "closed_on" not in self.cols:
            state = existing["state"]
        record["state"] = state
        if "closed_on" not in self.cols:
            record.pop("closed_on", None)
        return record


class _Bonuses(_UnitScoped):
    model = BonusItem
    key = ("unit_id", "reason")
    key_column = "reason"
    fields = {"points": None}
    duplicate_en, duplicate_zh = "bonus reason '{v}' of this unit", "本单位的加分事由“{v}”"

    def parse(self, row):
        return {
            "unit_id": self.unit_id(row),
            "reason": row.text("reason", True, _max_len(BonusItem, "reason")),
            "points": row.number("points", 0, 100, low_open=True),
        }


class _InstitutionScores(_UnitScoped):
    model = InstitutionScore
    key = ("unit_id",)
    key_column = "unit_code"
    fields = {"score": None}
    duplicate_en, duplicate_zh = "unit '{v}'", "单位“{v}”"

    def parse(self, row):
        return {"unit_id": self.unit_id(row), "score": row.number("score", 0, 100)}


class _Ratings(_Kind):
    """好差评 ratings: exactly once by event_id (origin "import"); a level 1-2 rating opens a bad-rating case."""

    def prepare(self):
        self.counts = {"created": 0, "duplicates": 0, "cases": 0}
        try:
            self.code_system = CodeSystem(self.options.get("code_system") or "standard")
        except ValueError:
            _file_error(
                f"unknown code system '{self.options.get('code_system')}' (standard or gbt39046)",
                "未知的等级编码方式（应为standard或gbt39046）",
            )
        self.units = self.code_map(Unit)
        self.inactive = set(db.session.execute(select(Unit.code).where(Unit.active.is_(False))).scalars())
        #: event_id -> first 16 bytes of its content hash, for duplicates within the file.
        self.seen = {}
        #: case_no -> event_id, for one rating per case within the file.
        self.cases = {}
        self.starts, self.ends = self.period.starts_on, self.period.ends_on
        self.max = {
            c: _max_len(PublicRating, c)
            for c in ("event_id", "case_no", "window", "service_item", "staff_code")
        }

    def check(self, row):
        event_id = row.text("event_id", True, self.max["event_id"])
        unit_code = row.text("unit_code", True)
        unit_id = None
        if unit_code is not None:
            unit_id = self.units.get(unit_code)
            if unit_id is None:
                row.bad("unit_code", unit_code, "unknown unit code '{v}'", "单位编码“{v}”不存在")
            elif unit_code in self.inactive:
                row.bad("unit_code", unit_code, "unit '{v}' is inactive", "单位“{v}”已停用")
        raw = row.integer("level", 1, 5, True, "'{v}' is not a level 1-5", "“{v}”不是1-5的等级")
        channel = row.choice("channel", Channel)
        rated_at = row.moment("rated_at")
        if rated_at is not None:
            local = rated_at.astimezone(CST).date()
            if not self.starts <= local <= self.ends:
                row.bad(
                    "rated_at",
                    row.raw("rated_at"),
                    f"'{{v}}' is outside period {self.period.name} ({self.starts} to {self.ends})",
                    f"“{{v}}”不在评价周期{self.period.name}内（{self.starts}至{self.ends}）",
                )
        is_default = row.flag("is_default")
        case_no = row.text("case_no", max_len=self.max["case_no"])
        window = row.text("window", max_len=self.max["window"])
        service_item = row.text("service_item", max_len=self.max["service_item"])
        staff_code = row.text("staff_code", max_len=self.max["staff_code"])
        if not row.ok:
            return None
        level = self.code_system.to_level(raw)
        utc_text = rated_at.isoformat()
        canonical = json.dumps(
            [
                unit_code,
                level,
                channel.value,
                utc_text,
                is_default,
                case_no,
                window,
                service_item,
                staff_code,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(canonical.encode("utf-8")).digest()
        before = self.seen.get(event_id)
        if before is not None:
            if before == digest[:16]:
                self.counts["duplicates"] += 1
                return None
            row.bad(
                "event_id",
                event_id,
                "event_id '{v}' appears earlier in the file with different content",
                "事件编号“{v}”在文件前面已出现且内容不同",
            )
            return None
        self.seen[event_id] = digest[:16]
        if case_no is not None:
            other = self.cases.get(case_no)
            if other is not None:
                row.bad(
                    "case_no",
                    case_no,
                    f"case '{{v}}' already has a rating earlier in the file (event_id '{other}'); "
                    "one rating per case",
                    f"办件编号“{{v}}”在文件前面已有评价（事件编号“{other}”），每个办件只能评价一次",
                )
                return None
            self.cases[case_no] = event_id
        return {
            "line": row.line,
            "event_id": event_id,
            "unit_id": unit_id,
            "level": level,
            "raw_code": raw,
            "channel": channel,
            "rated_at": rated_at,
            "is_default": is_default,
            "case_no": case_no,
            "window": window,
            "service_item": service_item,
            "staff_code": staff_code,
            "content_hash": digest.hex(),
        }

    def check_chunk(self, records):
        stored = {
            r.event_id: r
            for r in db.session.execute(
                select(PublicRating.event_id, PublicRating.content_hash, PublicRating.period_id).where(
                    PublicRating.origin == "import",
                    PublicRating.event_id.in_([r["event_id"] for r in records]),
                )
            )
        }
        kept = []
        for record in records:
            found = stored.get(record["event_id"])
            if found is None:
                kept.append(record)
            elif found.content_hash == record["content_hash"] and found.period_id == self.period.id:
                self.counts["duplicates"] += 1
            elif found.period_id != self.period.id:
                self._bad(
                    record,
                    "event_id",
                    record["event_id"],
                    "event_id '{v}' was imported into another period before; a rating is never moved",
                    "事件编号“{v}”此前已导入其他评价周期，已导入的评价不会被移动",
                )
            else:
                self._bad(
                    record,
                    "event_id",
                    record["event_id"],
                    "event_id '{v}' was imported before with different content (conflict); "
                    "a rating is never overwritten",
                    "事件编号“{v}”此前已导入且内容不同（冲突），已导入的评价不会被覆盖",
                )
        with_case = [r for r in kept if r["case_no"] is not None]
        if with_case:
            taken = set(
                db.session.execute(
                    select(PublicRating.case_no).where(
                        PublicRating.stage == "", PublicRating.case_no.in_([r["case_no"] for r in with_case])
                    )
                ).scalars()
            )
            if taken:
                for record in with_case:
                    if record["case_no"] in taken:
                        self._bad(
                            record,
                            "case_no",
                            record["case_no"],
                            "case '{v}' already has a rating; one rating per case",
                            "办件编号“{v}”已有评价，每个办件只能评价一次",
                        )
                kept = [r for r in kept if r["case_no"] not in taken]
        return kept

    def _bad(self, record, column, value, en, zh):
        self.errors.add(record["line"], column, value, en.replace("{v}", value), zh.replace("{v}", value))

    def write(self, spool, tick):
        """Insert the ratings in bulk, then open the cases (差评工单) of level 1-2 ratings that are not defaults.

        Rows are stored as the device API stores them: a default rating carries the "default" flag (not a
        suspicion: `flagged` stays false), and a rating with a case number is real-name (it can be called
        back). Cases are opened now, due the office's number of working days later (services.cases): a unit
        cannot call back before it learns of the rating.
        """
        from .cases import open_cases_for_ratings

        now = datetime.now(timezone.utc)
        period_id = self.period.id
        table = PublicRating.__table__
        done = 0
        bad_ids = []
        for chunk in spool.chunks():
            for record in chunk:
                del record["line"]
                record.update(
                    period_id=period_id,
                    origin="import",
                    device_id=None,
                    code_system=self.code_system,
                    stage="",
                    received_at=now,
                    flags=["default"] if record["is_default"] else None,
                    flagged=False,
                    real_name=record["case_no"] is not None,
                    excluded=False,
                )
            db.session.execute(insert(table), chunk)
            bad = [r["event_id"] for r in chunk if r["level"] <= 2 and not r["is_default"]]
            if bad:
                bad_ids.extend(
                    db.session.execute(
                        select(table.c.id).where(table.c.origin == "import", table.c.event_id.in_(bad))
                    ).scalars()
                )
            self.counts["created"] += len(chunk)
            done += len(chunk)
            tick(done)
        open_cases_for_ratings(bad_ids, opened_at=now)
        # Every one of these ratings is new, so each got its case (psycopg's executemany rowcount is -1).
        self.counts["cases"] = len(bad_ids)
        if self.counts["created"]:
            # The same suspicion flags as ratings posted by devices (odd hours, bursts): flags, not drops.
            from .ratings import rescan_flags

            flagged = sum(rescan_flags(self.period).values())
            if flagged:
                self.counts["flagged"] = flagged


@dataclass
class _StoredInstrument:
    id: int
    key: str
    rater_group: str
    targets: str
    allow_na: bool
    #: question id -> answer type
    questions: dict


class _Responses(_Kind):
    """Paper questionnaires keyed in: one rater's rows about one unit with one instrument are one response."""

    def prepare(self):
        from surveys import ANSWER_TYPES

        self.answer_types = ANSWER_TYPES
        self.counts = {"responses": 0, "created": 0, "updated": 0, "unchanged": 0}
        self.raters = {
            r.code: r for r in db.session.execute(select(Rater.code, Rater.id, Rater.group, Rater.unit_id))
        }
        self.units = self.code_map(Unit)
        self.unit_codes = {v: k for k, v in self.units.items()}
        self.instruments = _stored_instruments()
        #: (rater id, instrument id, unit id) -> {"line", "codes", "answered": set of question ids}
        self.groups = {}
        #: (rater id, instrument id, unit id, question) -> line
        self.first_line = {}

    def check(self, row):
        rater_code = row.text("rater_code", True)
        rater = None
        if rater_code is not None:
            rater = self.raters.get(rater_code)
            if rater is None:
                row.bad("rater_code", rater_code, "unknown rater code '{v}'", "评价人编码“{v}”不存在")
        key = row.text("instrument", True)
        instrument = None
        if key is not None:
            instrument = self.instruments.get(key)
            if instrument is None:
                if self.instruments:
                    known = ", ".join(self.instruments)
                    row.bad(
                        "instrument",
                        key,
                        f"unknown instrument '{{v}}' (known: {known})",
                        f"问卷“{{v}}”不存在（已有：{known}）",
                    )
                else:
                    row.bad(
                        "instrument",
                        key,
                        "no instruments are stored yet: run `assessment init-db` to load the definitions",
                        "数据库中还没有问卷：请先运行 assessment init-db 载入问卷定义",
                    )
        unit_id = self.lookup(row, "unit_code", self.units, "unit code", "单位编码")
        qid = row.text("question", True)
        qtype = None
        if instrument is not None and qid is not None:
            qtype = instrument.questions.get(qid)
            if qtype is None:
                row.bad(
                    "question",
                    qid,
                    f"instrument '{instrument.key}' has no question '{{v}}'",
                    f"问卷“{instrument.key}”中没有题目“{{v}}”",
                )
        value = None
        raw = row.raw("answer")
        if qtype is not None:
            answer_type = self.answer_types[qtype]
            try:
                value = answer_type.parse(raw)
            except ValueError:
                if raw == "":
                    row.bad(
                        "answer",
                        "",
                        "a value is required (write na for don't know)",
                        "不能为空（不了解请填na）",
                    )
                else:
                    low, high = getattr(answer_type, "min", ""), getattr(answer_type, "max", "")
                    row.bad(
                        "answer",
                        raw,
                        f"'{{v}}' is not a {qtype} answer ({low}-{high}, or na)",
                        f"“{{v}}”不是有效答案（应为{low}-{high}，不了解请填na）",
                    )
            else:
                if value is None and not instrument.allow_na:
                    row.bad(
                        "answer",
                        raw,
                        f"instrument '{instrument.key}' has no don't-know option",
                        f"问卷“{instrument.key}”不设“不了解”选项",
                    )
        pairing_ok = True
        if rater is not None and instrument is not None:
            if rater.group.value != instrument.rater_group:
                pairing_ok = False
                row.bad(
                    "instrument",
                    key,
                    f"instrument '{{v}}' is for {instrument.rater_group} raters; "
                    f"rater {rater_code} is in group {rater.group.value}",
                    f"问卷“{{v}}”供{_group_zh(instrument.rater_group)}填写，评价人{rater_code}属于"
                    f"{rater.group.label}",
                )
            elif unit_id is not None:
                pairing_ok = self._check_target(row, rater, rater_code, instrument, unit_id)
        if rater is None or instrument is None or unit_id is None or qid is None or not pairing_ok:
            return None
        group_key = (rater.id, instrument.id, unit_id)
        group = self.groups.get(group_key)
        if group is None:
            group = self.groups[group_key] = {
                "line": row.line,
                "codes": (rater_code, instrument.key, row.raw("unit_code")),
                "answered": set(),
            }
        if qtype is not None:
            first = self.first_line.get(group_key + (qid,))
            if first is not None:
                row.bad(
                    "question",
                    qid,
                    f"question '{{v}}' is answered twice by rater {rater_code} for this unit "
                    f"(first on line {first})",
                    f"评价人{rater_code}对该单位的题目“{{v}}”重复作答（首次出现在第{first}行）",
                )
                return None
            self.first_line[group_key + (qid,)] = row.line
            group["answered"].add(qid)
        if not row.ok:
            return None
        return (row.line, group_key, qid, value)

    def _check_target(self, row, rater, rater_code, instrument, unit_id) -> bool:
        """May this rater rate this unit with this instrument? Peer review never about one's own unit, self
        review only about it (a department rater's unit is where they work)."""
        own = rater.unit_id
        if instrument.targets == "other_units":
            if own is None:
                row.bad(
                    "rater_code",
                    rater_code,
                    "rater '{v}' has no unit, so cannot take part in peer review",
                    "评价人“{v}”没有所属单位，不能参加部门互评",
                )
                return False
            if own == unit_id:
                row.bad(
                    "unit_code",
                    row.raw("unit_code"),
                    f"rater {rater_code} belongs to unit '{{v}}': "
                    "a department does not rate itself in peer review",
                    f"评价人{rater_code}属于单位“{{v}}”：部门互评不评本单位",
                )
                return False
        elif instrument.targets == "own_unit" and own != unit_id:
            own_code = self.unit_codes.get(own, "—")
            row.bad(
                "unit_code",
                row.raw("unit_code"),
                f"self review is only about the rater's own unit ({own_code}), not '{{v}}'",
                f"自评只能评本单位（{own_code}），不能评“{{v}}”",
            )
            return False
        return True

    def finish(self):
        for group in self.groups.values():
            rater_code, key, unit_code = group["codes"]
            missing = [q for q in self.instruments[key].questions if q not in group["answered"]]
            if missing:
                shown = ", ".join(missing)
                self.errors.add(
                    group["line"],
                    "question",
                    None,
                    f"the response of rater {rater_code} about unit {unit_code} ({key}) has no answer to "
                    f"{shown}; every question needs a row (na for don't know)",
                    f"评价人{rater_code}对单位{unit_code}的答卷（{key}）缺少题目{shown}的答案；每题都须有一行（不了解填na）",
                )

    def write(self, spool, tick):
        """One submitted version per (rater, instrument, unit), added only when the answers changed."""
        answers_by_group = {}
        for _line, group_key, qid, value in spool:
            answers_by_group.setdefault(group_key, {})[qid] = value
        period_id = self.period.id
        assignments = {
            (a.rater_id, a.instrument_id, a.unit_id): a
            for a in db.session.execute(
                select(
                    Assignment.id,
                    Assignment.rater_id,
                    Assignment.instrument_id,
                    Assignment.unit_id,
                    Assignment.state,
                ).where(Assignment.period_id == period_id)
            )
        }
        responses = {
            r.assignment_id: r
            for r in db.session.execute(
                select(Response.id, Response.assignment_id, Response.current_version)
                .join(Assignment, Assignment.id == Response.assignment_id)
                .where(Assignment.period_id == period_id)
            )
        }
        latest = {}
        for response_id, question, value in db.session.execute(
            select(ResponseVersion.response_id, Answer.question, Answer.value)
            .join(Answer, Answer.version_id == ResponseVersion.id)
            .join(
                Response,
                and_(
                    Response.id == ResponseVersion.response_id,
                    Response.current_version == ResponseVersion.version,
                ),
            )
            .join(Assignment, Assignment.id == Response.assignment_id)
            .where(Assignment.period_id == period_id)
        ):
            latest.setdefault(response_id, {})[question] = value

        self.counts["responses"] = len(answers_by_group)
        pending = []
        for group_key, answers in answers_by_group.items():
            assignment = assignments.get(group_key)
            response = responses.get(assignment.id) if assignment else None
            if response is not None and response.current_version > 0 and latest.get(response.id) == answers:
                self.counts["unchanged"] += 1
                continue
            pending.append(_Pending(group_key, answers, assignment, response))
        now = datetime.now(timezone.utc)
        submitted = AssignmentState.SUBMITTED

        # Assignments: add the missing ones as submitted, mark the others submitted.
        fresh = [p for p in pending if p.assignment is None]
        ids = _insert_ids(
            Assignment,
            [
                {
                    "period_id": period_id,
                    "rater_id": p.key[0],
                    "instrument_id": p.key[1],
                    "unit_id": p.key[2],
                    "state": submitted,
                    "created_at": now,
                }
                for p in fresh
            ],
            key=("rater_id", "period_id", "instrument_id", "unit_id"),
        )
        for p, assignment_id in zip(fresh, ids):
            p.assignment_id = assignment_id
        for p in pending:
            if p.assignment is not None:
                p.assignment_id = p.assignment.id
        _bulk_update(
            Assignment,
            [
                {"id": p.assignment.id, "state": submitted}
                for p in pending
                if p.assignment is not None and p.assignment.state is not submitted
            ],
        )

        # Responses: one per assignment; its current version moves to the version added now.
        fresh = [p for p in pending if p.response is None]
        ids = _insert_ids(
            Response,
            [{"assignment_id": p.assignment_id, "current_version": 1} for p in fresh],
            key=("assignment_id",),
        )
        for p, response_id in zip(fresh, ids):
            p.response_id, p.version = response_id, 1
        for p in pending:
            if p.response is not None:
                p.response_id, p.version = p.response.id, p.response.current_version + 1
        _bulk_update(
            Response,
            [{"id": p.response_id, "current_version": p.version} for p in pending if p.response is not None],
        )
        for p in pending:
            self.counts["updated" if p.version > 1 else "created"] += 1

        version_ids = _insert_ids(
            ResponseVersion,
            [
                {
                    "response_id": p.response_id,
                    "version": p.version,
                    "submitted_at": now,
                    "source": ResponseSource.IMPORT,
                    "recorded_by": self.actor,
                    "reason": f"import {self.filename}",
                }
                for p in pending
            ],
            key=("response_id", "version"),
        )
        rows, done = [], 0
        for p, version_id in zip(pending, version_ids):
            rows.extend({"version_id": version_id, "question": q, "value": v} for q, v in p.answers.items())
            if len(rows) >= CHUNK:
                db.session.execute(insert(Answer.__table__), rows)
                done += len(rows)
                rows = []
                tick(done)
        if rows:
            db.session.execute(insert(Answer.__table__), rows)
        tick(spool.count)


@dataclass
class _Pending:
    """A response whose answers differ from its latest submitted version (or that has none yet)."""

    key: tuple
    answers: dict
    assignment: object
    response: object
    assignment_id: int | None = None
    response_id: int | None = None
    version: int = 1


def _group_zh(group):
    try:
        return RaterGroup(group).label
    except ValueError:
        return group


def _stored_instruments():
    """The newest stored version of each instrument, with its questions' answer types."""
    rows = db.session.execute(select(Instrument).order_by(Instrument.key, Instrument.version)).scalars().all()
    newest = {row.key: row for row in rows}
    result = {}
    for key, row in newest.items():
        try:
            allow_na = bool((yaml.safe_load(row.definition) or {}).get("allow_na", True))
        except (yaml.YAMLError, AttributeError):
            allow_na = True
        questions = dict(
            db.session.execute(
                select(Question.qid, Question.type)
                .where(Question.instrument_id == row.id)
                .order_by(Question.position)
            ).all()
        )
        result[key] = _StoredInstrument(row.id, key, row.rater_group, row.targets, allow_na, questions)
    return result


_KINDS = {
    "units": _Units,
    "towns": _Towns,
    "raters": _Raters,
    "responses": _Responses,
    "ratings": _Ratings,
    "checkpoints": _CheckPoints,
    "problems": _Problems,
    "bonuses": _Bonuses,
    "institution_scores": _InstitutionScores,
}


# ------------------------------------------------------------------------------------------------------------
# The service


def run_import(kind, source, period_name, actor="system", progress=None, filename=None, options=None):
    """Import one CSV or XLSX file of `kind` into the period called `period_name` (created if new).

    `source` is a path or a binary stream (then `filename` gives its extension). `options`: for ratings,
    ``code_system`` is "standard" (5 = 非常满意, the default) or "gbt39046" (1 = 非常满意). `progress(done, total,
    label)` is called while checking and while writing. Every row is checked before anything is written: if
    any is bad, ImportFailed lists the problems (the first IMPORT_MAX_ERRORS_SHOWN, the rest counted) and
    nothing is written. Re-importing a file changes nothing. Flushes but does not commit: the caller commits.
    """
    if kind not in _KINDS:
        _file_error(
            f"unknown import kind '{kind}' (expected one of: {', '.join(KINDS)})", f"未知的导入类型“{kind}”"
        )
    report_progress = progress or (lambda done, total, label: None)
    period = get_or_create_period(period_name, actor=actor)
    if period.state is PeriodState.PUBLISHED:
        _file_error(
            f"period {period.name} is published: its data are frozen and cannot be imported into",
            f"评价周期{period.name}已发布，数据已冻结，不能再导入",
        )
    errors = _Errors(current_app.config.get("IMPORT_MAX_ERRORS_SHOWN", 200))
    table = _Table(source, filename)
    filename = filename or table.name
    spool = _Spool()
    try:
        cols = _columns(kind, table.header)
        handler = _KINDS[kind](period, cols, errors, actor, filename, options)
        handler.prepare()
        total, rows, batch = table.total, 0, []
        report_progress(0, total, "Checking")
        for line, cells in table.rows():
            row = _Row(line, cells, cols, errors)
            if len(cells) > len(cols) and any(c != "" for c in cells[len(cols) :]):
                row.bad(
                    None,
                    next(c for c in cells[len(cols) :] if c != ""),
                    "value '{v}' is outside the header's columns",
                    "“{v}”所在的列没有表头",
                )
            record = handler.check(row)
            rows += 1
            if record is not None and row.ok:
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
        kind=kind, period=period.name, filename=filename, rows=rows, counts=dict(handler.counts)
    )


def _keep(spool, records, errors):
    # Once a row is bad nothing will be written: keep checking, stop keeping.
    if not errors:
        spool.extend(records)


def template_bytes(kind, fmt):
    """An empty import template for `kind`: the header row only, so it imports as an empty file.

    csv: UTF-8 with a BOM (so Excel shows Chinese correctly); xlsx: one sheet named after the kind, header
    bold, code columns formatted as text (so Excel keeps leading zeros).
    """
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind '{kind}'")
    required, optional = COLUMNS[kind]
    names = required + optional
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerow(names)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = kind
        ws.append(names)
        for i, name in enumerate(names, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, len(name) + 4)
            if name in ("code", "event_id", "case_no", "staff_code", "phone") or name.endswith("_code"):
                ws.column_dimensions[letter].number_format = "@"
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"unknown template format '{fmt}' (csv or xlsx)")
