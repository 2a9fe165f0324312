"""Cells of the CSV and XLSX files the platform writes: one formula neutraliser and one CSV writer.

A cell of free text starting with = + - @ (or a tab / carriage return that Excel skips) would run as a formula
when the file is opened in a spreadsheet (CSV injection); such text gets a leading apostrophe, as Indico's
`_prepare_csv_data` does. Numbers are not text: pass them through unchanged. Every cell of every sheet and
every CSV goes through `safe_cell` (the workbook writer and `csv_bytes` call it), so no sheet can forget it.

Every CSV is UTF-8 with a byte-order mark (interfaces.md): Excel on a Chinese desktop reads a CSV without one
in the local code page and shows the Chinese as garbage; readers that know UTF-8 skip the mark (utf-8-sig).
"""

import csv
import io
from datetime import date, datetime

from scoring.rounding import format_half_up

#: What a spreadsheet reads as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The byte-order mark every CSV starts with.
BOM = "\ufeff"


def safe_text(value) -> str:
    """Free text as a CSV/XLSX cell: '' for None, a leading apostrophe when it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_cell(value):
    """Like `safe_text` for text; other values (numbers, dates, None) unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def csv_text(value) -> str:
    """One CSV cell: text neutralised; a float with two decimals (四舍五入, `scoring.rounding`); a whole
    number as it is; true/false; a date as YYYY-MM-DD; '' for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_half_up(value, 2)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return safe_text(value)


def csv_bytes(header: list[str], rows) -> bytes:
    """A CSV file as the platform writes every one: UTF-8 with BOM, comma-separated, \\n line ends, each cell
    through `csv_text` (header names are the contract's and are written as they are)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
    return (BOM + buffer.getvalue()).encode("utf-8")
