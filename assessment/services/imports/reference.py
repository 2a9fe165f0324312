"""Reference lists (参考清单) for the clerk who fills an import file: the codes stored now — towns, units
with their category, the categories, and the instruments with their question ids — as CSV (UTF-8 with a BOM)
or XLSX.

Each list's first column holds the code an import file uses; the header names that import column in brackets.
"""

import io

from sqlalchemy import func, select

from surveys import ANSWER_TYPES

from ...extensions import db
from ...labels import INSTRUMENT_ZH, RATER_GROUP_ZH, label
from ...models import Instrument, Question, Town, Unit
from ...spreadsheets import csv_bytes, safe_cell
from ..responses import definition as stored_definition


def _towns():
    rows = db.session.execute(select(Town.code, Town.name).order_by(Town.code)).all()
    return ["镇街编码（town_code）", "镇街名称"], [list(r) for r in rows]


def _units():
    rows = db.session.execute(
        select(Unit.code, Unit.name, Unit.kind, Unit.category, Unit.active).order_by(Unit.category, Unit.code)
    ).all()
    header = ["单位编码（unit_code）", "单位名称", "单位性质（kind）", "单位性质", "分类（category）", "状态"]
    return header, [
        [code, name, kind.value, kind.label, category, "在用" if active else "停用"]
        for code, name, kind, category, active in rows
    ]


def _categories():
    rows = db.session.execute(
        select(Unit.category, Unit.kind, func.count()).group_by(Unit.category, Unit.kind).order_by(Unit.category)
    ).all()
    found = {}
    for category, kind, n in rows:
        entry = found.setdefault(category, [0, []])
        entry[0] += n
        entry[1].append(kind.label)
    header = ["分类（category）", "单位数", "单位性质"]
    return header, [[c, n, "、".join(sorted(kinds))] for c, (n, kinds) in found.items()]


def _answers(qtype, allow_na):
    answer_type = ANSWER_TYPES.get(qtype)
    if answer_type is None:
        return ""
    text = f"{answer_type.min}-{answer_type.max}"
    labels = answer_type.default_labels
    if labels:
        high, low = answer_type.max, answer_type.min
        text += f"（{high}={labels[high]}，{low}={labels[low]}）"
    return text + ("；不了解填na" if allow_na else "")


def _instruments():
    newest = {}
    for row in db.session.execute(select(Instrument).order_by(Instrument.key, Instrument.version)).scalars():
        newest[row.key] = row
    header = [
        "问卷代码（instrument）",
        "问卷名称",
        "评价人类别",
        "题目编号（question）",
        "主题代码",
        "主题",
        "题型",
        "答案（answer）",
        "权重",
        "题目",
    ]
    out = []
    for key, instrument in newest.items():
        defn = stored_definition(instrument)
        themes, allow_na = defn.themes, defn.allow_na
        questions = db.session.execute(
            select(Question).where(Question.instrument_id == instrument.id).order_by(Question.position)
        ).scalars()
        title = instrument.title or INSTRUMENT_ZH.get(key, key)
        for q in questions:
            answer_type = ANSWER_TYPES.get(q.type)
            out.append(
                [
                    key,
                    title,
                    label(instrument.rater_group, RATER_GROUP_ZH, instrument.rater_group),
                    q.qid,
                    q.theme or "",
                    themes.get(q.theme, ""),
                    answer_type.label if answer_type else q.type,
                    _answers(q.type, allow_na),
                    q.weight,
                    q.text,
                ]
            )
    return header, out


#: name -> (Chinese title, the function giving (header, rows)), in the order the page lists them.
REFERENCES = {
    "towns": ("镇街", _towns),
    "units": ("被评价单位", _units),
    "categories": ("单位分类", _categories),
    "instruments": ("问卷题目", _instruments),
}


def reference_rows(name) -> tuple[list, list]:
    """The header and rows of the reference list `name` (one of REFERENCES), as stored now."""
    if name not in REFERENCES:
        raise ValueError(f"unknown reference list '{name}' (expected one of: {', '.join(REFERENCES)})")
    return REFERENCES[name][1]()


def reference_bytes(name, fmt) -> bytes:
    """The reference list `name` as a file: csv (UTF-8 with a BOM) or xlsx (one sheet, header bold and
    frozen). Text that would start a formula is neutralised."""
    header, rows = reference_rows(name)
    if fmt == "csv":
        return csv_bytes(header, rows)
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = REFERENCES[name][0]
        ws.append(header)
        for row in rows:
            ws.append([safe_cell(c) for c in row])
        for i, title in enumerate(header, start=1):
            ws.cell(row=1, column=i).font = Font(bold=True)
            longest = max([len(str(title))] + [len(str(r[i - 1])) for r in rows[:200]])
            ws.column_dimensions[get_column_letter(i)].width = min(60, max(10, longest * 1.6 + 2))
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"unknown format '{fmt}' (csv or xlsx)")
