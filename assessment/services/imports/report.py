"""The outcome of an import: the problems found (RowError, ImportFailed), or what it did (ImportReport)."""

from dataclasses import dataclass, field

from .columns import KIND_LABELS


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
            part for part in (self.line and f"line {self.line}", self.column and f"column {self.column}") if part
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


class Errors:
    """Collects RowErrors; keeps the first `limit` and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: list[RowError] = []
        self.truncated = 0

    def add(self, line, column, value, en, zh):
        """Record one problem, or only count it once `limit` problems are kept."""
        if len(self.items) < self.limit:
            self.items.append(RowError(line, column, value, en, zh))
        else:
            self.truncated += 1

    def __bool__(self):
        return bool(self.items) or self.truncated > 0

    def fail(self):
        """Raise ImportFailed with the kept problems in file order (line, then column)."""
        ordered = sorted(self.items, key=lambda e: (e.line or 0, e.column or ""))
        raise ImportFailed(ordered, self.truncated)


def file_error(en, zh, line=None, column=None):
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
    #: The first data row was the template's example row, left unchanged, and was not imported.
    example_skipped: bool = False

    def summary(self) -> str:
        """One English line for the CLI: ``Imported 120 ratings into 2026: 118 new, 2 duplicates skipped.``"""
        text = self._summary()
        if self.example_skipped:
            text += " The template's example row (line 2) was left out."
        return text

    def summary_zh(self) -> str:
        """The same in Chinese, for the console page."""
        text = self._summary_zh()
        if self.example_skipped:
            text += "模板示例行（第2行）未改动，已跳过。"
        return text

    def _summary(self) -> str:
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
        text = (
            f"Imported {self.rows} {noun} into {self.period}: {c['created']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged."
        )
        if c.get("new_categories"):
            text += f" New categories: {', '.join(c['new_categories'])}."
        return text

    def _summary_zh(self) -> str:
        c = self.counts
        label = KIND_LABELS[self.kind]
        if self.kind == "ratings":
            text = (
                f"已导入{label}{self.rows}条（评价周期{self.period}）："
                f"新增{c['created']}条，重复跳过{c['duplicates']}条。"
            )
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
        text = (
            f"已导入{label}{self.rows}条（评价周期{self.period}）：新增{c['created']}条，"
            f"更新{c['updated']}条，未变化{c['unchanged']}条。"
        )
        if c.get("new_categories"):
            text += f"新增分类：{'、'.join(c['new_categories'])}。"
        return text
