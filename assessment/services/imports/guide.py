"""The 填写说明 of each import kind, for the clerk who fills the file: what every column means, what it allows
and an example row; and the templates and note files built from it.

The design, as the import page says it:
- XLSX template: the first sheet (named after the kind) holds the header row and one example row, in grey
  italics with a note on its first cell; a second sheet 填写说明 explains every column. The import reads the
  first sheet only, and skips the example row when it is left exactly as the template wrote it (on line 2), so
  a template filled below the example, or with the example overwritten, imports as the clerk expects.
- CSV template: the header row only, so it imports as it is; the same 填写说明 is a separate CSV download
  (and shown on the import page), never a row inside the file.
"""

import io
from dataclasses import dataclass

from ...models import Channel, CheckPointStatus, ProblemClass, ProblemSource, RaterGroup, Severity, UnitKind
from ...spreadsheets import csv_bytes
from .columns import COLUMNS, KIND_LABELS

#: The name of the notes sheet in an XLSX template (the import reads the first sheet only).
GUIDE_SHEET = "填写说明"
#: The line of the example row in an XLSX template (the header is line 1).
EXAMPLE_LINE = 2


@dataclass(frozen=True)
class ColumnNote:
    """One column of an import file, explained: its Chinese name, what it allows, and the example's value."""

    name: str
    title: str
    rule: str
    example: str | int | float = ""


def _choices(enum_cls) -> str:
    """Allowed values of a choice column: each code with its Chinese label; both are accepted."""
    listed = "、".join(f"{m.value}（{m.label}）" for m in enum_cls)
    return f"{listed}；填英文代码或中文名称均可"


_UNIT = ColumnNote("unit_code", "单位编码", "须为已导入的被评价单位编码（见参考清单“被评价单位”）", "U001")

#: kind -> what one row is, then the columns in the order of COLUMNS (required first).
NOTES = {
    "units": (
        "每行一个被评价单位；按单位编码新增，编码已存在时更新该单位。",
        (
            ColumnNote("code", "单位编码", "唯一；再次导入时按编码更新", "U001"),
            ColumnNote("name", "单位名称", "单位全称", "市民政局"),
            ColumnNote("kind", "单位性质", _choices(UnitKind), "政府部门"),
            ColumnNote(
                "category",
                "分类排名组",
                "同一分类的单位一起排名；须为已有分类（见参考清单“单位分类”），以防错字；确需新增分类时，"
                "导入时勾选“允许新增分类”（命令行 --new-categories）；"
                "系统中还没有任何单位时，首个文件中的分类直接创建",
                "政府部门",
            ),
            ColumnNote("establishment", "编制数", "不小于0的整数；文件不含此列时保留原值", 35),
            ColumnNote("actual_staff", "实有人数", "不小于0的整数；文件不含此列时保留原值", 33),
            ColumnNote("leader_posts", "领导职数", "不小于0的整数；文件不含此列时保留原值", 5),
            ColumnNote("leaders_in_post", "实配领导人数", "不小于0的整数；文件不含此列时保留原值", 5),
        ),
    ),
    "towns": (
        "每行一个镇（街道）；按镇街编码新增或更新。",
        (
            ColumnNote("code", "镇街编码", "唯一；再次导入时按编码更新", "T01"),
            ColumnNote("name", "镇街名称", "镇（街道）全称", "密州街道"),
        ),
    ),
    "raters": (
        "每行一名评价人；按评价人编码新增或更新。",
        (
            ColumnNote("code", "评价人编码", "唯一；再次导入时按编码更新", "G0001"),
            ColumnNote("name", "姓名", "评价人姓名", "张晓红"),
            ColumnNote("group", "评价人类别", _choices(RaterGroup), "镇街干部"),
            ColumnNote("town_code", "所属镇街编码", "镇街干部必填；须为已导入的镇街编码（见参考清单“镇街”）", "T01"),
            ColumnNote("unit_code", "所属单位编码", "部门评价人必填（部门互评不评本单位）；须为已导入的单位编码", ""),
            ColumnNote(
                "phone",
                "联系电话",
                "选填；11位手机号，或带区号的固定电话（如0536-1234567），可含空格、短横线或括号",
                "13800000000",
            ),
        ),
    ),
    "responses": (
        "纸质问卷录入：每行一道题的答案；同一评价人、同一问卷、同一被评价单位的各行合为一份答卷，"
        "须包含该问卷的每一道题（不了解填na）。",
        (
            ColumnNote("rater_code", "评价人编码", "须为已导入的评价人编码", "G0001"),
            ColumnNote(
                "instrument",
                "问卷代码",
                "见参考清单“问卷题目”，如grassroots（镇街评议）、leader（领导点评）；须与评价人类别相符",
                "grassroots",
            ),
            _UNIT,
            ColumnNote("question", "题目编号", "该问卷中的题目编号（见参考清单“问卷题目”）", "g01"),
            ColumnNote(
                "answer",
                "答案",
                "五级满意度题填1-5（5=非常满意，1=非常不满意）；百分制题填0-100；不了解填na",
                4,
            ),
        ),
    ),
    "ratings": (
        "每行一条好差评记录；按事件编号只导入一次，重复导入自动跳过。",
        (
            ColumnNote(
                "event_id",
                "事件编号",
                "每条评价唯一；再次导入内容相同的跳过，内容不同的报错，已导入的评价不会被覆盖",
                "WIN-20260301-0001",
            ),
            _UNIT,
            ColumnNote(
                "level",
                "满意度等级",
                "1-5的整数，5=非常满意，1=非常不满意；按GB/T 39046编码（1=非常满意）的文件，导入时在“满意度编码”中选择",
                5,
            ),
            ColumnNote("channel", "评价渠道", _choices(Channel), "窗口评价器"),
            ColumnNote(
                "rated_at",
                "评价时间",
                "须在评价周期内；格式如2026-03-01T09:30:00+08:00或2026/3/1 9:30，不写时区按北京时间",
                "2026-03-01T09:30:00+08:00",
            ),
            ColumnNote("is_default", "系统默认好评", "选填；1或“是”为系统默认好评，0、“否”或空白为否", 0),
            ColumnNote("case_no", "办件编号", "选填；同一办件只能有一条评价", "BJ2026030100123"),
            ColumnNote("window", "窗口", "选填；窗口名称或编号", "3号窗口"),
            ColumnNote("service_item", "办理事项", "选填", "不动产登记"),
            ColumnNote("staff_code", "工作人员编号", "选填", "S017"),
        ),
    ),
    "checkpoints": (
        "每行一个问效点；同一单位的同一事项再次导入时更新。",
        (
            _UNIT,
            ColumnNote("item", "问效事项", "同一单位内不重复", "完成年度权责清单动态调整"),
            ColumnNote("due", "完成时限", "日期，格式YYYY-MM-DD", "2026-06-30"),
            ColumnNote("status", "完成情况", _choices(CheckPointStatus), "按时完成"),
        ),
    ),
    "problems": (
        "每行一个问题；导入的每个问题获得下一个台账编号；同一单位同日发现的同名问题再次导入时更新。",
        (
            _UNIT,
            ColumnNote("title", "问题标题", "简要描述问题", "窗口排队时间过长"),
            ColumnNote("source", "问题来源", _choices(ProblemSource), "日常监管"),
            ColumnNote("severity", "严重程度", _choices(Severity), "一般"),
            ColumnNote("found_on", "发现日期", "日期，格式YYYY-MM-DD", "2026-03-10"),
            ColumnNote("deadline", "整改期限", "日期，不早于发现日期", "2026-04-10"),
            ColumnNote("closed_on", "销号日期", "选填；填写即销号，不早于发现日期", ""),
            ColumnNote("category", "问题类别", "选填", "服务效能"),
            ColumnNote("responsible", "责任人", "选填", "王建华（科长）"),
            ColumnNote("class", "问题分类", "选填，默认单位整改；" + _choices(ProblemClass), "单位整改"),
        ),
    ),
    "bonuses": (
        "每行一项加分；同一单位的同一事由再次导入时更新分值。",
        (
            _UNIT,
            ColumnNote("reason", "加分事由", "同一单位内不重复", "获评省级先进集体"),
            ColumnNote("points", "加分分值", "大于0且不超过100的数", 2),
        ),
    ),
    "institution_scores": (
        "每行一个事业单位的年度绩效考核得分；再次导入时更新。",
        (_UNIT, ColumnNote("score", "绩效考核得分", "0-100的数", 92.5)),
    ),
}

#: What every file has in common, for the notes sheet and the page.
GENERAL_NOTES = (
    "第1行为表头（英文列名），请勿修改列名；列的顺序可以调整，选填列可以整列删除，不能增加其他列。",
    "XLSX模板第2行为示例行（灰色斜体）：原样保留时导入会自动跳过；也可以直接改写为第一条数据，或删除该行。",
    "导入只读取第一个工作表，XLSX模板中的“填写说明”工作表不会被导入；CSV模板只有表头行，本说明另行下载。",
    "日期写作YYYY-MM-DD（如2026-03-31），也可以用Excel的日期格式；编码类的列请设为文本格式，以免丢失前导0。",
    "单位、镇街、分类、问卷题目等编码见导入页面的“参考清单”。",
    "任何一行有误时整个文件都不导入，错误清单列出行号、列名和原因；同一文件重复导入不会产生重复数据。",
    "CSV文件请在Excel中“另存为”→“CSV UTF-8（逗号分隔）”。",
)

GUIDE_HEADER = ("列名", "中文名称", "是否必填", "填写要求 / 允许的值", "示例")


def notes(kind) -> list[dict]:
    """The notes of every column of `kind`, in template order: name, title, required, rule, example."""
    required, _optional = COLUMNS[kind]
    return [
        {
            "name": n.name,
            "title": n.title,
            "required": n.name in required,
            "rule": n.rule,
            "example": n.example,
        }
        for n in NOTES[kind][1]
    ]


def example_row(kind) -> dict:
    """column -> the example value of `kind`'s templates (as text; "" for a column left blank)."""
    return {n.name: str(n.example) for n in NOTES[kind][1]}


def is_example(kind, cols: dict, cells: list) -> bool:
    """Is this data row the template's example row, left exactly as written (for the columns the file has)?"""
    example = example_row(kind)
    if len(cells) > len(cols) and any(c != "" for c in cells[len(cols) :]):
        return False
    return all(str(cells[i] if i < len(cells) else "") == example.get(name, "") for name, i in cols.items())


def guide_rows(kind) -> list[list]:
    """The 填写说明 of `kind` as rows: the kind's one line, the general notes, then the table of columns."""
    rows = [[f"{KIND_LABELS[kind]}（{kind}）导入文件 填写说明"], [NOTES[kind][0]]]
    rows += [[f"{i}. {text}"] for i, text in enumerate(GENERAL_NOTES, start=1)]
    rows.append([])
    rows.append(list(GUIDE_HEADER))
    for n in notes(kind):
        rows.append([n["name"], n["title"], "必填" if n["required"] else "选填", n["rule"], n["example"]])
    return rows


def guide_csv(kind) -> bytes:
    """The 填写说明 of `kind` as a CSV file of its own (UTF-8 with a BOM): never imported, only read."""
    if kind not in NOTES:
        raise ValueError(f"unknown import kind '{kind}'")
    rows = guide_rows(kind)
    return csv_bytes(rows[0], rows[1:])


def _is_code(name):
    return name in ("code", "event_id", "case_no", "staff_code", "phone") or name.endswith("_code")


#: Choice columns, for the XLSX template's drop-down lists (of the Chinese labels; any code is also accepted).
_DROPDOWNS = {
    ("units", "kind"): UnitKind,
    ("raters", "group"): RaterGroup,
    ("ratings", "channel"): Channel,
    ("checkpoints", "status"): CheckPointStatus,
    ("problems", "source"): ProblemSource,
    ("problems", "severity"): Severity,
    ("problems", "class"): ProblemClass,
}


def template_bytes(kind, fmt):
    """An import template for `kind` that imports as an empty file.

    csv: the header row only, UTF-8 with a BOM (so Excel shows Chinese correctly); its notes are `guide_csv`.
    xlsx: the first sheet (named after the kind) holds the header (bold; required columns shaded, each with
    its Chinese name as a cell note) and the example row (grey italics; skipped on import while unchanged),
    code columns formatted as text (so Excel keeps leading zeros), drop-down lists of the Chinese labels in
    choice columns; the second sheet 填写说明 explains every column.
    """
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind '{kind}'")
    required, optional = COLUMNS[kind]
    names = required + optional
    if fmt == "csv":
        return csv_bytes(names, [])
    if fmt == "xlsx":
        return _template_xlsx(kind, names, required)
    raise ValueError(f"unknown template format '{fmt}' (csv or xlsx)")


def _template_xlsx(kind, names, required):
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    by_name = {n["name"]: n for n in notes(kind)}
    example = example_row(kind)
    wb = Workbook()
    ws = wb.active
    ws.title = kind
    ws.append(names)
    ws.append([by_name[name]["example"] if by_name[name]["example"] != "" else None for name in names])
    shade = PatternFill("solid", fgColor="FCE4D6")
    grey = PatternFill("solid", fgColor="EDEDED")
    for i, name in enumerate(names, start=1):
        note = by_name[name]
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True)
        if name in required:
            head.fill = shade
        need = "必填" if note["required"] else "选填"
        head.comment = Comment(f"{note['title']}（{need}）\n{note['rule']}", "填写说明", 160, 320)
        cell = ws.cell(row=EXAMPLE_LINE, column=i)
        cell.font = Font(italic=True, color="808080")
        cell.fill = grey
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(14, len(name) + 4, len(example[name]) * 1.2 + 2)
        if _is_code(name):
            ws.column_dimensions[letter].number_format = "@"
            cell.number_format = "@"
        enum_cls = _DROPDOWNS.get((kind, name))
        if enum_cls is not None:
            listed = ",".join(m.label for m in enum_cls)
            check = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=False)
            check.add(f"{letter}2:{letter}5000")
            ws.add_data_validation(check)
    ws.cell(row=EXAMPLE_LINE, column=1).comment = Comment(
        "示例行：原样保留时导入会自动跳过；可以直接改写为第一条数据，或删除本行。", "填写说明", 120, 260
    )
    ws.freeze_panes = "A2"

    guide = wb.create_sheet(GUIDE_SHEET)
    rows = guide_rows(kind)
    table_at = rows.index(list(GUIDE_HEADER)) + 1
    for row in rows:
        guide.append(row)
    guide["A1"].font = Font(bold=True, size=14)
    for cell in guide[table_at]:
        cell.font = Font(bold=True)
        cell.fill = shade
    for row in guide.iter_rows(min_row=table_at + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDE", (18, 16, 10, 70, 28), strict=True):
        guide.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
