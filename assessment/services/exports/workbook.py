"""The results workbook (xlsx): first a sheet for people, then the machine contract, then the explanations.

Sheets, in order: 评价结果 (the ranking in Chinese: labels, numbers rounded 四舍五入 to two decimals, category
groups, grade colours, frozen header), 指标说明 (what each column and indicator means), results (the contract
sheet of interfaces.md, English column names, unchanged), then 样本量, 分来源指标得分, 敏感性分析, 问题台账, 差评工单,
参评率 and 评分方案 with Chinese headers and labels. Every cell of every sheet is written by `write_sheet`, which keeps
text starting with a formula character (`spreadsheets.FORMULA_START`) inert as Excel's quoted text, unchanged.
"""

import io
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

import scoring
from scoring.rounding import format_setting_percent, round2

from ... import labels
from ...extensions import db
from ...models import BadRatingCase, Period, PublicRating, Result, Unit
from ...spreadsheets import FORMULA_START
from ...timefmt import format_cst
from .. import reports
from .contract import FIXED_COLUMNS, TAIL_COLUMNS, result_table

#: Fill colours of the grades (the printed report's bar colours, lightened for a cell background).
GRADE_FILL = {"excellent": "C8E6C9", "good": "D6E4FF", "fair": "FFF1C2", "poor": "F9D0CD"}
HEADER_FILL = "E3E8EF"
GROUP_FILL = "F1F4F8"
TWO = "0.00"
#: Column formats of the contract sheet: numbers with two decimals, as the CSV writes them.
CONTRACT_TWO = {"composite", "assessment_points", "coverage", "deduction", "bonus"}


@dataclass
class Sheet:
    """One sheet to write: header, rows (typed values), and how to present them."""

    name: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    #: Column indexes (0-based) shown with two decimals.
    two_decimals: set[int] = field(default_factory=set)
    #: Column index of a grade code to colour, with the codes per row (the cell shows the label).
    grade_column: int | None = None
    grade_codes: list[str | None] = field(default_factory=list)
    #: Rows (0-based, in `rows`) that head a category group: merged, shaded, and the rows below outlined.
    group_rows: list[int] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    #: The top-left cell that scrolls (Excel's freeze panes): below the header, and right of the frozen columns.
    freeze: str = "A2"


#: A number as every sheet holds it: 四舍五入 to two decimals (scoring.rounding.round2), as the pages and the CSV
#: show it — never Excel's display rounding of the raw float.
rounded = round2


def yes_no(flag) -> str:
    return "是" if flag else "否"


# ---------------------------------------------------------------- 评价结果 (for people)


def people_sheet(result: Result, scheme: scoring.Scheme) -> Sheet:
    """评价结果: the ranking in Chinese, grouped by category (a shaded row heads each group)."""
    leaves = list(scheme.leaves)
    header = (
        [
            "分类",
            "排名",
            "单位编码",
            "单位名称",
            "综合得分",
            "等次",
            "综合考核分值",
            "编制挂钩",
            "建议核减编制（名）",
            "暂停受理编制事项",
            "指标覆盖率",
        ]
        + [leaf.name for leaf in leaves]
        + ["扣分合计", "加分", "需人工复核"]
    )
    sheet = Sheet("评价结果", header, two_decimals={4, 6, 10} | set(range(11, 11 + len(leaves) + 2)), grade_column=5)
    groups: dict[str, list] = {}
    for row in result.ordered_rows():
        groups.setdefault(row.category, []).append(row)
    for category, members in groups.items():
        sheet.group_rows.append(len(sheet.rows))
        sheet.rows.append([f"{category}（{len(members)} 个单位）"] + [None] * (len(header) - 1))
        sheet.grade_codes.append(None)
        for row in members:
            cells = [
                row.category,
                labels.rank_text(row),
                row.unit_code,
                row.unit_name,
                rounded(row.composite),
                labels.grade_text(row, ""),
                rounded(row.assessment_points),
                labels.action_text(row, ""),
                int(row.suggested_reduction or 0),
                yes_no(row.approvals_suspended),
                rounded(row.coverage),
            ]
            for leaf in leaves:
                cell = reports.leaf_cell(row.leaves.get(leaf.id))
                cells.append(cell["text"] if cell["suppressed"] else rounded(cell["value"]))
            cells += [rounded(row.deduction), rounded(row.bonus), "是" if row.review_flag else ""]
            sheet.rows.append(cells)
            sheet.grade_codes.append(None if row.composite is None else row.grade)
    sheet.widths = {0: 14, 1: 7, 2: 10, 3: 26}
    sheet.freeze = "E2"  # the category, rank, code and name stay in view
    return sheet


def explanation_sheet(scheme: scoring.Scheme) -> Sheet:
    """指标说明: what each column of 评价结果 means, then each indicator: where it comes from and how it scores."""
    header = ["类型", "名称", "编号", "一级指标", "二级指标", "来源", "权重（分）", "最低样本量", "说明"]
    g = scheme.grades
    excellent, poor, review = (
        format_setting_percent(share) for share in (g.excellent_share, g.poor_share, scheme.sensitivity.review_below)
    )
    columns = [
        ("分类", "排名分组（被评价单位的类别）；排名、等次在组内计算。"),
        ("排名", "组内排名，不出现并列：综合得分（两位小数）高者在前，相同时加权基础分高者在前，再相同按单位编码。"),
        (
            "综合得分",
            "加权基础分 − 扣分 + 加分，限定在 0–100 分；基础分按有数据的指标加权平均，缺数据指标的权重分摊到其余指标。",
        ),
        (
            "等次",
            (
                f"组内排名前 {excellent} 为优秀；综合得分低于 {g.poor_below:g} 分或排名后 "
                f"{poor} 为较差；其余 {g.good_from:g} 分及以上为良好，否则为一般。"
            ),
        ),
        (
            "综合考核分值",
            f"计入全市高质量发展综合绩效考核的分值：综合得分 × {scheme.assessment_share:g}% ，四舍五入到两位小数。",
        ),
        (
            "编制挂钩",
            "优秀：优先保障编制资源和年度用编进人计划；较差：原则上不予考虑机构编制事项、视情调减编制；其余：维持。",
        ),
        ("建议核减编制（名）", f"仅对从严控制的单位：min(空编数, ⌈{scheme.reduction_share:g} × 编制数⌉)。"),
        ("暂停受理编制事项", "判定日仍有超过整改期限未销号的问题：暂停受理机构编制事项申请（审批联动）。"),
        ("指标覆盖率", f"有数据指标的权重之和 ÷ 100；低于 {scheme.coverage_min:g} 的单位在报告中提示。"),
        ("扣分合计", f"问题扣分 + 整改超期扣分，最多 {scheme.deduction.cap:g} 分。"),
        ("加分", f"加分项之和，最多 {scheme.bonus_cap:g} 分。"),
        (
            "需人工复核",
            f"敏感性分析中等次保持概率低于 {review} 的单位，发布前须逐一人工复核。",
        ),
        (labels.TOO_FEW_ZH, "评价人数少于该群体的最低样本量：该指标不计分、不单独显示（保护评价人匿名）。"),
        ("数字", "所有得分四舍五入保留两位小数，与系统页面、打印报告和 CSV 文件一致。"),
    ]
    sheet = Sheet("指标说明", header)
    for name, text in columns:
        sheet.rows.append(["列", name, None, None, None, None, None, None, text])
    trim = scheme.trimming
    likert = "、".join(f"答 {answer} 得 {points:g} 分" for answer, points in sorted(scheme.answer_points.items()))
    for leaf in scheme.leaves:
        min_n = scheme.leaf_min_n(leaf)
        if leaf.is_questionnaire:
            how = (
                f"每位评价人对本单位的得分为其作答题目的加权平均（五级量表：{likert}；不了解不计）；"
                f"人数达到 {trim.from_n} 人时去掉一个最高分、一个最低分后取平均。"
            )
            if leaf.theme:
                how = f"只计主题为 {leaf.theme} 的题目。" + how
        elif leaf.source == "public":
            how = (
                f"好差评：(n × 本单位平均分 + {scheme.public.m:g} × 全市平均分) ÷ (n + {scheme.public.m:g})，"
                "不计系统默认好评；评价越少越接近全市平均。"
            )
        elif leaf.source == "checkpoints":
            how = "100 × (按时完成 + 0.5 × 逾期完成) ÷ (按时 + 逾期 + 未完成)；免于考核的不计。"
        elif leaf.source == "institution":
            how = "导入的事业单位绩效考核得分（0–100）。"
        elif leaf.source == "problems":
            pts = scheme.deduction.points
            how = (
                f"每个问题按严重程度扣分：一般 {pts['general']:g}、较重 {pts['serious']:g}、严重 {pts['grave']:g} 分。"
            )
        elif leaf.source == "overdue":
            how = "超过整改期限未销号或逾期销号的问题，再按严重程度扣一次分。"
        else:
            how = ""
        sheet.rows.append(
            [
                "指标",
                leaf.name,
                leaf.id,
                leaf.level1,
                leaf.level2,
                labels.LEAF_SOURCE_ZH.get(leaf.source, leaf.source),
                "扣分项" if leaf.is_deduction else leaf.weight,
                min_n,
                how,
            ]
        )
    sheet.widths = {0: 6, 1: 18, 2: 22, 3: 10, 4: 16, 5: 18, 6: 10, 7: 10, 8: 90}
    return sheet


# ---------------------------------------------------------------- the contract sheet and the explanations


def contract_sheet(result: Result, scheme: scoring.Scheme) -> Sheet:
    """results: the CSV's table with numbers as numbers (shown with two decimals)."""
    header, rows = result_table(result, scheme)
    leaves = set(header[len(FIXED_COLUMNS) : -len(TAIL_COLUMNS)])
    two = {i for i, name in enumerate(header) if name in CONTRACT_TWO or name in leaves}
    # The CSV's digits: each number rounded 四舍五入 to two decimals (54.125 -> 54.13), not Excel's display rounding.
    rows = [[rounded(v) if i in two else v for i, v in enumerate(row)] for row in rows]
    return Sheet("results", header, rows, two_decimals=two)


def detail_sheets(result: Result, scheme: scoring.Scheme) -> list[Sheet]:
    """样本量, 分来源指标得分, 敏感性分析, 问题台账, 差评工单, 参评率, 评分方案 (Chinese headers and labels)."""
    ordered = result.ordered_rows()
    leaves = list(scheme.leaves)
    sizes = Sheet("样本量", ["单位编码", "单位名称"] + [leaf.name for leaf in leaves])
    for r in ordered:
        cells = [reports.leaf_cell(r.leaves.get(leaf.id)) for leaf in leaves]
        sizes.rows.append([r.unit_code, r.unit_name] + [c["text"] if c["suppressed"] else c["n"] for c in cells])
    by_source = Sheet(
        "分来源指标得分",
        [
            "单位编码",
            "单位名称",
            "指标编号",
            "指标名称",
            "一级指标",
            "二级指标",
            "来源",
            "权重（分）",
            "得分",
            "样本量",
            "贡献（分）",
        ],
        two_decimals={8, 10},
    )
    for r in ordered:
        for leaf in leaves:
            cell = reports.leaf_cell(r.leaves.get(leaf.id))
            by_source.rows.append(
                [
                    r.unit_code,
                    r.unit_name,
                    leaf.id,
                    leaf.name,
                    leaf.level1,
                    leaf.level2,
                    labels.LEAF_SOURCE_ZH.get(leaf.source, leaf.source),
                    None if leaf.is_deduction else leaf.weight,
                    cell["text"] if cell["suppressed"] else rounded(cell["value"]),
                    cell["n"],
                    rounded(cell["contribution"]),
                ]
            )
    sensitivity = Sheet(
        "敏感性分析",
        [
            "单位编码",
            "单位名称",
            "分类",
            "排名",
            "等次",
            "排名中位数",
            "排名区间下限（P5）",
            "排名区间上限（P95）",
            "等次保持概率",
            "需人工复核",
            "复核人",
            "复核时间（北京时间）",
            "复核意见",
        ],
        two_decimals={8},
    )
    for r in ordered:
        d = r.detail or {}
        sensitivity.rows.append(
            [
                r.unit_code,
                r.unit_name,
                r.category,
                labels.rank_text(r),
                labels.grade_text(r, ""),
                d.get("rank_median"),
                d.get("rank_p05"),
                d.get("rank_p95"),
                rounded(d.get("grade_keep_prob")),
                yes_no(r.review_flag),
                r.reviewed_by,
                format_cst(r.reviewed_at, empty=None),
                r.review_note,
            ]
        )
    period = db.session.get(Period, result.period_id)
    ledger = Sheet(
        "问题台账",
        [
            "单位编码",
            "单位名称",
            "问题",
            "来源",
            "问题类别",
            "严重程度",
            "发现日期",
            "整改期限",
            "销号日期",
            "超期",
            "责任人",
            "状态",
        ],
    )
    for line in reports.problem_rows(period):
        p = line.problem
        ledger.rows.append(
            [
                line.unit_code,
                line.unit_name,
                p.title,
                p.source.label,
                p.category,
                p.severity.label,
                p.found_on,
                p.deadline,
                p.closed_on,
                yes_no(line.overdue),
                p.responsible,
                p.state.label,
            ]
        )
    cases = db.session.execute(
        db.select(BadRatingCase, Unit.code, Unit.name, PublicRating.level, PublicRating.rated_at, PublicRating.channel)
        .join(Unit, BadRatingCase.unit_id == Unit.id)
        .join(PublicRating, BadRatingCase.rating_id == PublicRating.id)
        .where(PublicRating.period_id == result.period_id)
        .order_by(Unit.code, BadRatingCase.id)
    ).all()
    case_sheet = Sheet(
        "差评工单",
        [
            "单位编码",
            "单位名称",
            "评价等级",
            "渠道",
            "评价时间（北京时间）",
            "状态",
            "定性",
            "办理期限",
            "已回访",
            "办结时间（北京时间）",
        ],
    )
    case_sheet.rows = [
        [
            code,
            name,
            labels.LEVEL_LABELS.get(level, level),
            labels.label(channel, labels.CHANNEL_ZH),
            format_cst(rated_at),
            labels.label(case.state, labels.CASE_STATE_ZH),
            labels.label(case.classification, labels.CASE_CLASS_ZH, None),
            case.due_on,
            yes_no(case.called_back_at is not None),
            format_cst(case.closed_at, empty=None),
        ]
        for case, code, name, level, rated_at, channel in cases
    ]
    rates = Sheet("参评率", ["问卷", "镇街", "评价人群体", "应评（份）", "已评（份）", "参评率"], two_decimals={5})
    rates.rows = [
        [
            labels.INSTRUMENT_ZH.get(r.get("instrument"), r.get("instrument")),
            r.get("town"),
            labels.RATER_GROUP_ZH.get(r.get("group"), r.get("group")),
            r.get("assigned"),
            r.get("submitted"),
            rounded(r.get("rate")),
        ]
        for r in (result.extras or {}).get("quality", {}).get("response_rates", [])
    ]
    scheme_sheet = Sheet(
        "评分方案",
        [f"评分方案第 {result.scheme.version} 版（YAML）"],
        [[line] for line in result.scheme.text.splitlines()],
    )
    scheme_sheet.widths = {0: 110}
    return [sizes, by_source, sensitivity, ledger, case_sheet, rates, scheme_sheet]


# ---------------------------------------------------------------- writing


def _width(value) -> float:
    """Display width of a cell: CJK characters count double."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else (f"{value:.2f}" if isinstance(value, float) else str(value))
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _inert(cell):
    """Text that a spreadsheet would read as a formula (= + - @) stays text and keeps its characters: stored
    as a string with Excel's quote prefix, not with an apostrophe added to the value (that is the CSV's way;
    in a sheet it would change what people read and copy, e.g. the scheme's YAML "- id: …" lines)."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def write_sheet(book, sheet: Sheet):
    """Write one sheet: formula-like text kept inert (`_inert`); bold shaded frozen header, widths, formats,
    groups."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(sheet.name)
    ws.append(list(sheet.header))
    for row in sheet.rows:
        ws.append(list(row))
    for line in ws.iter_rows():
        for cell in line:
            _inert(cell)
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    for cell in ws[1]:
        cell.font = bold
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.freeze_panes = sheet.freeze
    for index in range(len(sheet.header)):
        letter = get_column_letter(index + 1)
        width = sheet.widths.get(index)
        if width is None:
            sample = [sheet.header[index]] + [r[index] for r in sheet.rows[:300]]
            width = min(max(8, max(_width(v) for v in sample) + 2), 50)
        ws.column_dimensions[letter].width = width
        if index in sheet.two_decimals:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
                if isinstance(cell.value, float | int):
                    cell.number_format = TWO
    for row_index, values in enumerate(sheet.rows, start=2):
        for col_index, value in enumerate(values, start=1):
            if isinstance(value, date):
                ws.cell(row_index, col_index).number_format = "yyyy-mm-dd"
    if sheet.grade_column is not None:
        for row_index, code in enumerate(sheet.grade_codes, start=2):
            if code in GRADE_FILL:
                ws.cell(row_index, sheet.grade_column + 1).fill = PatternFill("solid", fgColor=GRADE_FILL[code])
    if sheet.group_rows:
        group_fill = PatternFill("solid", fgColor=GROUP_FILL)
        top = Border(top=Side(style="thin", color="9AA5B1"))
        starts = sheet.group_rows + [len(sheet.rows)]
        for start, end in pairwise(starts):
            excel_row = start + 2
            ws.merge_cells(start_row=excel_row, start_column=1, end_row=excel_row, end_column=len(sheet.header))
            head = ws.cell(excel_row, 1)
            head.font = bold
            head.fill = group_fill
            head.border = top
            if end > start + 1:
                ws.row_dimensions.group(excel_row + 1, end + 1, outline_level=1, hidden=False)
        ws.sheet_properties.outlinePr.summaryBelow = False


def build_xlsx(result: Result) -> bytes:
    """The results workbook: 评价结果 and 指标说明 for people, "results" for machines, then the details."""
    from openpyxl import Workbook

    scheme = scoring.load_scheme(result.scheme.text)
    book = Workbook()
    book.remove(book.active)
    for sheet in [
        people_sheet(result, scheme),
        explanation_sheet(scheme),
        contract_sheet(result, scheme),
        *detail_sheets(result, scheme),
    ]:
        write_sheet(book, sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
