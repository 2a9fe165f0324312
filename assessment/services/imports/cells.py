"""The cell checks of one data row: text, choice, integer, number, date, moment and flag getters that record a
bilingual error for a bad cell and return None."""

import math
import re
from datetime import UTC, date, datetime

from ..workdays import CST
from .reading import as_text, show

_DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASH_DATETIME_RE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_INT_RE = re.compile(r"[+-]?\d+")


def column_length(model, column):
    """The length limit of a text column (so a long cell is a clear error, not a database error)."""
    return model.__table__.c[column].type.length


class Row:
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
        shown = show(value)
        self.errors.add(self.line, column, shown, en.replace("{v}", shown), zh.replace("{v}", shown))

    def raw(self, column):
        """The cell of `column` as read (text, or an XLSX date/time object); "" when absent or blank."""
        i = self.cols.get(column)
        if i is None or i >= len(self.cells):
            return ""
        return self.cells[i]

    def text(self, column, required=False, max_len=None):
        """The cell as text, or None when blank (an error when `required`, or when longer than `max_len`)."""
        value = self.raw(column)
        if not isinstance(value, str):
            value = as_text(value)
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

    def choice(self, column, enum_cls, required=True, members=None):
        """The enum member named by the cell (any case), or None with an error listing the allowed values;
        `members` narrows the enum to what the file format allows (interfaces.md)."""
        value = self.text(column, required)
        if value is None:
            return None
        members = tuple(members or enum_cls)
        try:
            member = enum_cls(value.lower())
            if member not in members:
                raise ValueError(value)
            return member
        except ValueError:
            allowed = " / ".join(m.value for m in members)
            self.bad(column, value, f"'{{v}}' is not one of: {allowed}", f"“{{v}}”不是以下之一：{allowed}")
            return None

    def integer(self, column, low=0, high=None, required=False, en=None, zh=None):
        """A whole number in [low, high] ("3.0" counts as 3), or None; `en`/`zh` replace the range message."""
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
        """A finite number in [low, high] (or (low, high] when `low_open`), or None with an error."""
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
        """A date from YYYY-MM-DD, YYYY/M/D or an XLSX date cell, or None with an error."""
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
        return parsed.astimezone(UTC)

    def flag(self, column):
        """True for 1, False for 0 or blank, None (with an error) for anything else."""
        value = self.text(column)
        if value is None or value == "0":
            return False
        if value == "1":
            return True
        self.bad(column, value, "'{v}' is not 0 or 1", "“{v}”应为0或1")
        return None
