"""The cell checks of one data row: text, choice, integer, number, date, moment and flag getters that record a
bilingual error for a bad cell and return None."""

import math
import re
from datetime import UTC, date, datetime
from functools import cache

from ...labels import IMPORT_FLAG_ZH, IMPORT_SYNONYMS_ZH
from ...timefmt import CST
from .reading import as_text, show

_DATE_RE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASH_DATETIME_RE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_INT_RE = re.compile(r"[+-]?\d+")
#: What may separate the parts of a phone number: spaces, hyphens and brackets (full-width too).
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-－—–()（）]+")
#: A mainland mobile number, optionally with +86 / 0086 first.
_MOBILE_RE = re.compile(r"(?:(?:\+|00)?86)?1[3-9]\d{9}")
#: A landline: area code (0 and 2-3 digits), then a local number of 7-8 digits; when a separator follows the
#: area code it marks where the area code ends.
_LANDLINE_RE = re.compile(r"(0\d{2,3})-([\d-]+)|0\d{2,3}[1-9]\d{6,7}")
_LOCAL_RE = re.compile(r"[1-9]\d{6,7}")


@cache
def choice_words(enum_cls) -> dict:
    """word -> member of `enum_cls`: each code, its Chinese label as the console shows it (the member's
    ``label``, from assessment/labels.py) and the further synonyms of labels.IMPORT_SYNONYMS_ZH; in lower
    case."""
    words = {}
    for member in enum_cls:
        words[member.value.lower()] = member
    for member in enum_cls:
        label = getattr(member, "label", None)
        for word in (label, *IMPORT_SYNONYMS_ZH.get(member.value, ())):
            if word:
                words.setdefault(word.lower(), member)
    return words


def is_phone(text: str) -> bool:
    """Is `text` a mainland mobile number or a landline with its area code (separators allowed)?"""
    marked = _PHONE_SEPARATORS_RE.sub("-", text.strip()).strip("-")
    if _MOBILE_RE.fullmatch(marked.replace("-", "")):
        return True
    landline = _LANDLINE_RE.fullmatch(marked)
    if landline is None:
        return False
    return landline.group(2) is None or bool(_LOCAL_RE.fullmatch(landline.group(2).replace("-", "")))


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
            self.bad(column, value, f"'{{v}}' is longer than {max_len} characters", f"“{{v}}”超过{max_len}个字符")
            return None
        return value

    def choice(self, column, enum_cls, required=True, members=None):
        """The enum member named by the cell: its code (any case) or its Chinese label as the console shows
        it (政府部门 → government, 窗口评价器 or 窗口 → window; see `choice_words`), or None with an error
        listing the allowed codes; `members` narrows the enum to what the file format allows (interfaces.md)."""
        value = self.text(column, required)
        if value is None:
            return None
        members = tuple(members or enum_cls)
        member = choice_words(enum_cls).get(value.lower())
        if member is None or member not in members:
            allowed = " / ".join(m.value for m in members)
            self.bad(column, value, f"'{{v}}' is not one of: {allowed}", f"“{{v}}”不是以下之一：{allowed}")
            return None
        return member

    def phone(self, column, max_len=None):
        """A phone number as written (trimmed), or None when blank; not a mobile or a landline with its area
        code is an error."""
        value = self.text(column, max_len=max_len)
        if value is None or is_phone(value):
            return value
        self.bad(
            column,
            value,
            "'{v}' is not a phone number (a mobile number 1xxxxxxxxxx or a landline with its area code, "
            "e.g. 0536-1234567)",
            "“{v}”不是有效的电话号码（应为11位手机号，或带区号的固定电话，如0536-1234567）",
        )
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
        try:
            # Near year 1 or 9999 the shift to UTC (or back to Beijing time) leaves the dates Python can hold:
            # out of range, as the device API answers it.
            moment = parsed.astimezone(UTC)
            moment.astimezone(CST)
        except OverflowError:
            self.bad(
                column,
                value,
                "'{v}' is outside the dates the platform can store",
                "“{v}”超出了系统可保存的日期范围",
            )
            return None
        return moment

    def flag(self, column):
        """True for 1 (or 是), False for 0 (or 否) or blank, None (with an error) for anything else."""
        value = self.text(column)
        if value is None or value == "0" or value in IMPORT_FLAG_ZH["0"]:
            return False
        if value == "1" or value in IMPORT_FLAG_ZH["1"]:
            return True
        self.bad(column, value, "'{v}' is not 0 or 1", "“{v}”应为0或1（或“是”/“否”）")
        return None
