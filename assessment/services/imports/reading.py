"""Reading an import file: CSV or XLSX rows with the line numbers the user sees, the header checked against
the kind's columns, and cells normalised to trimmed text (XLSX dates and times stay objects)."""

import csv
import io
import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

from .columns import COLUMNS
from .report import ImportFailed, RowError, file_error


def norm(value):
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


def as_text(value) -> str:
    """A normalised cell as text (dates and times in ISO 8601)."""
    return value.isoformat() if isinstance(value, (datetime, date, time)) else str(value)


def show(value) -> str:
    """A cell as shown in an error message: text, cut to 80 characters."""
    text = as_text(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _calamine_cell(value):
    """A python-calamine cell as openpyxl gives it: a date cell is a datetime at midnight, a blank is None."""
    if value == "":
        return None
    if value.__class__ is date:
        return datetime(value.year, value.month, value.day)
    return value


def _calamine_norm(value):
    """A python-calamine cell normalised as `norm` does it (text trimmed at once: most cells are text)."""
    return value.strip() if value.__class__ is str else norm(_calamine_cell(value))


#: A cell's reference, r="B7": wherever an `r` is followed by `=` and a quoted reference with column letters,
#: whatever comes before it (XML parsers accept attributes with no space between them) and with either quote.
#: A false match (text that happens to read r="A9") can only make a sheet look larger, never smaller. The
#: pattern starts with a literal, which the regex engine finds fast.
_CELL_REF_RE = re.compile(rb"r\s*=\s*[\"']([A-Z]+)(\d+)[\"']")


def _row_patterns(tag: bytes) -> tuple[re.Pattern, re.Pattern]:
    """(a <row> element, a row's own number r="7" when it has one: cells without a reference sit in their row)
    for the row tag as written: b"<row", or with any namespace prefix (rare, and slower to search)."""
    return (
        re.compile(tag + rb"[\s>/]"),
        re.compile(tag + rb"(?=[\s>/])[^>]*?(?<![\w.-])r\s*=\s*[\"'](\d+)[\"']"),
    )


_ROW_RE, _ROW_NUMBER_RE = _row_patterns(rb"<row")
_ANY_ROW_RE, _ANY_ROW_NUMBER_RE = _row_patterns(rb"<(?:\w+:)?row")
_REF_RE = re.compile(r"([A-Z]+)(\d+)")
#: Bytes, uncompressed, of the workbook parts read whole to find the first sheet (a real one is a few KB).
_PART_MAX = 1 << 20


def _ref(ref: str) -> tuple[int, int]:
    """(row, column), 1-based, of a cell reference such as "XFD1048576"."""
    letters, digits = _REF_RE.fullmatch(ref).groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(digits), column


def _part(archive, name) -> bytes:
    """A workbook part read whole, refused (file_error) when it would inflate past _PART_MAX."""
    if archive.getinfo(name).file_size > _PART_MAX:
        file_error(f"not a readable XLSX file ({name} is too large)", "不是有效的XLSX文件")
    return archive.read(name)


def xlsx_extent(fh) -> tuple[int, int] | None:
    """(rows, columns) of the first sheet of an XLSX file, from a streaming scan of its XML (memory stays
    bounded): the largest cell reference, and at least as many rows as <row> elements. The sheet's
    <dimension> is not trusted: the uploader writes it. None when the file is not a readable XLSX (the reader
    then says so)."""
    start = fh.tell()
    try:
        with zipfile.ZipFile(fh) as archive:
            workbook = _part(archive, "xl/workbook.xml")
            rels = _part(archive, "xl/_rels/workbook.xml.rels")
            first = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook) or re.search(
                rb"<(?:\w+:)?sheet\b[^>]*?\bid=\"([^\"]+)\"", workbook
            )
            if first is None:
                return None
            rid = re.escape(first.group(1))
            target = re.search(rb"<Relationship\b[^>]*?\bId=\"" + rid + rb"\"[^>]*?\bTarget=\"([^\"]+)\"", rels)
            if target is None:
                target = re.search(rb"<Relationship\b[^>]*?\bTarget=\"([^\"]+)\"[^>]*?\bId=\"" + rid + rb"\"", rels)
            if target is None:
                return None
            name = target.group(1).decode()
            name = name.lstrip("/") if name.startswith("/") else "xl/" + name
            rows = columns = row_elements = 0
            with archive.open(name) as sheet:
                tail = b""
                while block := sheet.read(1 << 20):
                    text = tail + block
                    cut = text.rfind(b">") + 1  # a tag never straddles two pieces: the rest waits for the next
                    text, tail = text[:cut], text[cut:]
                    if len(tail) > _PART_MAX:  # no '>' in a megabyte: not a sheet (a cell holds 32,767 characters)
                        file_error("not a readable XLSX file (a tag is too long)", "不是有效的XLSX文件")
                    prefixed = b":row" in text
                    row_elements += len((_ANY_ROW_RE if prefixed else _ROW_RE).findall(text))
                    numbers = (_ANY_ROW_NUMBER_RE if prefixed else _ROW_NUMBER_RE).findall(text)
                    if numbers:
                        rows = max(rows, max(map(int, numbers)))
                    found = _CELL_REF_RE.findall(text)
                    if found:
                        rows = max(rows, max(map(int, {digits for _, digits in found})))
                        letters = max({letters for letters, _ in found}, key=lambda v: (len(v), v))
                        columns = max(columns, _ref(letters.decode() + "1")[1])
            return max(rows, row_elements), columns
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, AttributeError):
        return None
    finally:
        fh.seek(start)


class Table:
    """The rows of a CSV or XLSX file: `header` (raw), then `rows()` yields (line, cells). An XLSX sheet larger
    than `max_rows` data rows or `max_columns` columns is refused before it is read."""

    def __init__(self, source, filename, max_rows=None, max_columns=None):
        self._owned = None
        self.max_rows, self.max_columns = max_rows, max_columns
        if isinstance(source, (str, Path)):
            path = Path(source)
            self.name = filename or path.name
            try:
                fh = open(path, "rb")  # noqa: SIM115 (closed by close(), the table outlives this call)
            except OSError as exc:
                file_error(f"cannot open {path}: {exc.strerror}", f"无法打开文件 {path}")
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
                file_error(
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
            file_error(
                "file is not UTF-8 encoded: in Excel choose Save As → 'CSV UTF-8', or import the XLSX file",
                "文件不是UTF-8编码：请在Excel中“另存为”→“CSV UTF-8（逗号分隔）”，或直接导入XLSX文件",
                line=self._line + 1,
            )
        except csv.Error as exc:
            file_error(f"not a readable CSV file ({exc})", "不是有效的CSV文件", line=self._line + 1)
        self._line += 1
        return cells

    # XLSX ---------------------------------------------------------------------------------------------------
    def _check_extent(self):
        """Refuse a sheet past the row or column limit, from a scan of its cell references, before reading it."""
        extent = xlsx_extent(self.fh)
        if extent is not None:
            self._refuse_past_caps(*extent)

    def _refuse_past_caps(self, rows, columns):
        """file_error when a sheet of `rows` rows (the header included) and `columns` columns is too large."""
        if self.max_rows is not None and rows - 1 > self.max_rows:
            file_error(
                f"the sheet has {rows - 1} rows; at most {self.max_rows} can be imported at once: split the file "
                "(or delete the empty rows Excel keeps at its end)",
                f"工作表有{rows - 1}行，一次最多导入{self.max_rows}行：请拆分文件（或删除表格末尾的空行）",
            )
        if self.max_columns is not None and columns > self.max_columns:
            file_error(
                f"the sheet has {columns} columns; at most {self.max_columns} are read: delete the columns "
                "right of the data",
                f"工作表有{columns}列，最多读取{self.max_columns}列：请删除数据右侧多余的列",
            )

    def _open_xlsx(self):
        self._check_extent()
        try:
            from python_calamine import CalamineError, CalamineWorkbook
        except ImportError:  # the dependency is declared; openpyxl (slower, streaming) stays as the fallback
            self._open_openpyxl()
            return
        try:
            self._wb = None
            sheet = CalamineWorkbook.from_filelike(self.fh).get_sheet_by_index(0)
        except (CalamineError, IndexError, OSError, ValueError):
            file_error("not a readable XLSX file", "不是有效的XLSX文件")
        self.total = sheet.end[0] if sheet.end else 0
        if sheet.end:  # the backstop: what calamine read, whatever the XML scan saw
            self._refuse_past_caps(sheet.end[0] + 1, sheet.end[1] + 1)
        # calamine leaves out the empty columns left of the first used cell (not the empty rows above it):
        # put them back, so that cells keep their columns and rows their line numbers.
        pad = [""] * (sheet.start[1] if sheet.start else 0)
        self._iter = enumerate((pad + row for row in sheet.iter_rows()), start=1)
        first = next(self._iter, None)
        self.header = None if first is None else [_calamine_cell(v) for v in first[1]]
        self._calamine = True

    def _open_openpyxl(self):
        import zipfile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._wb = load_workbook(self.fh, read_only=True, data_only=True)
            sheet = self._wb.worksheets[0]
        except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, OSError, ValueError):
            file_error("not a readable XLSX file", "不是有效的XLSX文件")
        self.total = max((sheet.max_row or 1) - 1, 0)
        self._refuse_past_caps(sheet.max_row or 1, sheet.max_column or 1)
        self._iter = enumerate(sheet.iter_rows(values_only=True), start=1)
        first = next(self._iter, None)
        self.header = None if first is None else list(first[1])
        self._calamine = False

    # --------------------------------------------------------------------------------------------------------
    def rows(self):
        """(line, list of normalised cells) for each non-blank data row."""
        if self.is_xlsx:
            convert = _calamine_norm if self._calamine else norm
            for line, values in self._iter:
                if len(values) > (self.max_columns or len(values)) or line - 1 > (self.max_rows or line):
                    self._refuse_past_caps(line, len(values))  # the last backstop: stop reading past the caps
                cells = [convert(v) for v in values]
                if any(c != "" for c in cells):
                    yield line, cells
            return
        while (cells := self._next_csv()) is not None:
            cells = list(map(str.strip, cells))  # csv gives text only
            if any(cells):
                yield self._line, cells

    def close(self):
        """Close the workbook or detach the text reader, and close the file when this table opened it."""
        if getattr(self, "_wb", None) is not None:
            self._wb.close()
        if getattr(self, "_text", None) is not None:
            self._text.detach()
        if self._owned is not None:
            self._owned.close()


def read_columns(kind, raw_header) -> dict:
    """Check the header row; return column name -> cell index."""
    if raw_header is None:
        file_error("the file is empty: a header row is required", "文件为空：第一行须为表头", line=1)
    names = [as_text(norm(c)).lstrip("\ufeff").strip().lower() for c in raw_header]
    while names and names[-1] == "":
        names.pop()
    required, optional = COLUMNS[kind]
    problems = []
    if not names:
        file_error("the header row is empty", "表头行为空", line=1)
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
        problems.append((f"missing required columns: {', '.join(missing)}", f"缺少必填列：{'、'.join(missing)}"))
    if problems:
        raise ImportFailed([RowError(1, None, None, en, zh) for en, zh in problems])
    return {n: i for i, n in enumerate(names)}
