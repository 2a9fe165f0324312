"""The file for the comprehensive-assessment office (综合考核, the 4% share): `--format assessment`.

interfaces.md: an xlsx whose first sheet "综合考核" has one row per unit with the columns 单位编码, 单位名称, 分类,
综合得分, 排名, 等次, 考核分值, 暂停受理; 等次 in Chinese (优秀 / 良好 / 一般 / 较差),
考核分值 the assessment points with
two decimals, 暂停受理 是 / 否. Rows in the results' order (category, then rank).
"""

import io

from ... import labels
from ...models import Result
from .workbook import Sheet, rounded, write_sheet, yes_no

COLUMNS = ["单位编码", "单位名称", "分类", "综合得分", "排名", "等次", "考核分值", "暂停受理"]


def assessment_sheet(result: Result) -> Sheet:
    """综合考核: one row per unit; a unit without data has empty score, rank, grade and points."""
    sheet = Sheet("综合考核", COLUMNS, two_decimals={3, 6}, grade_column=5)
    for row in result.ordered_rows():
        sheet.rows.append(
            [
                row.unit_code,
                row.unit_name,
                row.category,
                rounded(row.composite),
                labels.rank_text(row, None),
                labels.grade_text(row, None),
                rounded(row.assessment_points),
                yes_no(row.approvals_suspended),
            ]
        )
        sheet.grade_codes.append(None if row.composite is None else row.grade)
    sheet.widths = {1: 28, 2: 14}
    return sheet


def build_assessment(result: Result) -> bytes:
    """The comprehensive-assessment office's xlsx (a single sheet 综合考核)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    write_sheet(book, assessment_sheet(result))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
