"""What each import file looks like: the kinds, their Chinese names, their columns, and an empty template."""

import csv
import io

#: kind -> (required columns, optional columns), exactly as interfaces.md lists them.
COLUMNS = {
    "units": (
        ["code", "name", "kind", "category"],
        ["establishment", "actual_staff", "leader_posts", "leaders_in_post"],
    ),
    "towns": (["code", "name"], []),
    "raters": (["code", "name", "group"], ["town_code", "unit_code", "phone"]),
    "responses": (["rater_code", "instrument", "unit_code", "question", "answer"], []),
    "ratings": (
        ["event_id", "unit_code", "level", "channel", "rated_at"],
        ["is_default", "case_no", "window", "service_item", "staff_code"],
    ),
    "checkpoints": (["unit_code", "item", "due", "status"], []),
    "problems": (
        ["unit_code", "title", "source", "severity", "found_on", "deadline"],
        ["closed_on", "category", "responsible", "class"],
    ),
    "bonuses": (["unit_code", "reason", "points"], []),
    "institution_scores": (["unit_code", "score"], []),
}

KINDS = tuple(COLUMNS)

KIND_LABELS = {
    "units": "被评价单位",
    "towns": "镇街",
    "raters": "评价人",
    "responses": "纸质问卷答案",
    "ratings": "好差评记录",
    "checkpoints": "问效点",
    "problems": "问题台账",
    "bonuses": "加分项",
    "institution_scores": "事业单位绩效考核得分",
}


def template_bytes(kind, fmt):
    """An empty import template for `kind`: the header row only, so it imports as an empty file.

    csv: UTF-8 with a BOM (so Excel shows Chinese correctly); xlsx: one sheet named after the kind, header
    bold, code columns formatted as text (so Excel keeps leading zeros).
    """
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind '{kind}'")
    required, optional = COLUMNS[kind]
    names = required + optional
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerow(names)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = kind
        ws.append(names)
        for i, name in enumerate(names, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, len(name) + 4)
            if name in ("code", "event_id", "case_no", "staff_code", "phone") or name.endswith("_code"):
                ws.column_dimensions[letter].number_format = "@"
        ws.freeze_panes = "A2"
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValueError(f"unknown template format '{fmt}' (csv or xlsx)")
