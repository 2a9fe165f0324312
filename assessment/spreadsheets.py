"""Cells of the CSV and XLSX files the platform writes: the one formula neutraliser.

A cell of free text starting with = + - @ (or a tab / carriage return that Excel skips) would run as a formula
when the file is opened in a spreadsheet (CSV injection); such text gets a leading apostrophe, as Indico's
`_prepare_csv_data` does. Numbers are not text: pass them through unchanged.
"""

#: What a spreadsheet reads as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    """Free text as a CSV/XLSX cell: '' for None, a leading apostrophe when it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_cell(value):
    """Like `safe_text` for text; other values (numbers, dates, None) unchanged."""
    return safe_text(value) if isinstance(value, str) else value
