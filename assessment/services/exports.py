"""Results exports: `build_*` functions return bytes; only the route or the CLI writes or sends them.

The CSV layout is the contract of interfaces.md ("Results export"): one row per unit, the fixed columns in
order, one column per scheme leaf (its id; empty when the unit lacks data), then deduction and bonus; numbers
with two decimals; rows ordered by category, then rank.
"""

import csv
import io

import scoring
from scoring.rounding import format_half_up

from ..extensions import db
from ..labels import GRADE_ZH
from ..models import Period, Result
from ..spreadsheets import safe_text
from ..timefmt import format_cst
from . import reports
from .scoring import ordered_rows

FIXED_COLUMNS = [
    "period", "unit_code", "unit_name", "category", "composite", "rank", "grade", "assessment_points",
    "establishment_action", "suggested_reduction", "approvals_suspended", "coverage",
]
TAIL_COLUMNS = ["deduction", "bonus"]


def two(value) -> str:
    """A number as exported: two decimals (四舍五入, as the engine ranks and the pages show), empty when none."""
    return format_half_up(value, 2)


def leaf_ids(result: Result) -> list[str]:
    """The scheme's leaf ids in scheme order, as stored with the result."""
    scheme = scoring.load_scheme(result.scheme.text)
    return [leaf.id for leaf in scheme.leaves]


def result_table(result: Result) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the results export, ordered by category, then rank."""
    period = db.session.get(Period, result.period_id)
    leaves = leaf_ids(result)
    header = FIXED_COLUMNS + leaves + TAIL_COLUMNS
    rows = ordered_rows(result)
    out = []
    for row in rows:
        line = [
            period.name,
            safe_text(row.unit_code),
            safe_text(row.unit_name),
            safe_text(row.category),
            two(row.composite),
            "" if row.rank is None else str(row.rank),
            row.grade or "",
            two(row.assessment_points),
            row.establishment_action or "",
            str(int(row.suggested_reduction)),
            "true" if row.approvals_suspended else "false",
            two(row.coverage),
        ]
        line += [two((row.leaves.get(leaf) or {}).get("value")) for leaf in leaves]
        line += [two(row.deduction), two(row.bonus)]
        out.append(line)
    return header, out


def build_csv(result: Result) -> bytes:
    """The results CSV (UTF-8, no BOM; comma-separated; \\n line ends)."""
    header, rows = result_table(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------- xlsx

def _sheet_frames(result: Result) -> dict:
    """The frames of the xlsx workbook, sheet name -> DataFrame (numbers unrounded except the results sheet)."""
    import pandas as pd

    from ..models import BadRatingCase, PublicRating, Unit

    header, rows = result_table(result)
    leaves = leaf_ids(result)
    table = pd.DataFrame(rows, columns=header)
    # In the workbook numbers are numbers (shown with two decimals), not text.
    for column in ["composite", "assessment_points", "coverage", *leaves, "deduction", "bonus"]:
        table[column] = pd.to_numeric(table[column].replace("", None)).astype(float)
    for column in ["rank", "suggested_reduction"]:
        table[column] = pd.to_numeric(table[column].replace("", None)).astype("Int64")
    frames = {"results": table}
    ordered = ordered_rows(result)
    frames["sample_sizes"] = pd.DataFrame(
        [[r.unit_code, r.unit_name] + [(r.leaves.get(l) or {}).get("n") for l in leaves] for r in ordered],
        columns=["unit_code", "unit_name"] + leaves,
    )
    scheme = scoring.load_scheme(result.scheme.text)
    frames["leaf_scores_by_source"] = pd.DataFrame(
        [
            {
                "unit_code": r.unit_code,
                "unit_name": r.unit_name,
                "leaf": leaf.id,
                "name": leaf.name,
                "level1": leaf.level1,
                "level2": leaf.level2,
                "source": leaf.source,
                "weight": leaf.weight,
                "value": (r.leaves.get(leaf.id) or {}).get("value"),
                "n": (r.leaves.get(leaf.id) or {}).get("n"),
                "contribution": (r.leaves.get(leaf.id) or {}).get("contribution"),
            }
            for r in ordered
            for leaf in scheme.leaves
        ]
    )
    frames["sensitivity"] = pd.DataFrame(
        [
            {
                "unit_code": r.unit_code,
                "unit_name": r.unit_name,
                "category": r.category,
                "rank": r.rank,
                "grade": r.grade,
                "rank_median": (r.detail or {}).get("rank_median"),
                "rank_p05": (r.detail or {}).get("rank_p05"),
                "rank_p95": (r.detail or {}).get("rank_p95"),
                "grade_keep_prob": (r.detail or {}).get("grade_keep_prob"),
                "review_flag": r.review_flag,
                "reviewed_by": safe_text(r.reviewed_by) if r.reviewed_by else None,
                "reviewed_at": format_cst(r.reviewed_at, empty=None),
                "review_note": safe_text(r.review_note) if r.review_note else None,
            }
            for r in ordered
        ]
    )
    period = db.session.get(Period, result.period_id)
    frames["problem_ledger"] = pd.DataFrame(
        [
            {
                "unit_code": line.unit_code,
                "unit_name": line.unit_name,
                "title": safe_text(p.title),
                "source": p.source.value,
                "category": safe_text(p.category) if p.category else None,
                "severity": p.severity.value,
                "found_on": p.found_on,
                "deadline": p.deadline,
                "closed_on": p.closed_on,
                "overdue": line.overdue,
                "responsible": safe_text(p.responsible) if p.responsible else None,
                "state": p.state.value,
            }
            for line in reports.problem_rows(period)
            for p in (line.problem,)
        ],
        columns=["unit_code", "unit_name", "title", "source", "category", "severity", "found_on", "deadline",
                 "closed_on", "overdue", "responsible", "state"],
    )
    cases = db.session.execute(
        db.select(BadRatingCase, Unit.code, Unit.name, PublicRating.level, PublicRating.rated_at,
                  PublicRating.channel)
        .join(Unit, BadRatingCase.unit_id == Unit.id)
        .join(PublicRating, BadRatingCase.rating_id == PublicRating.id)
        .where(PublicRating.period_id == result.period_id)
        .order_by(Unit.code, BadRatingCase.id)
    ).all()
    frames["bad_rating_cases"] = pd.DataFrame(
        [
            {
                "unit_code": code,
                "unit_name": name,
                "level": level,
                "channel": channel.value,
                "rated_at": format_cst(rated_at),
                "state": case.state.value,
                "classification": case.classification.value if case.classification else None,
                "due_on": case.due_on,
                "called_back": case.called_back_at is not None,
                "closed_at": format_cst(case.closed_at, empty=None),
            }
            for case, code, name, level, rated_at, channel in cases
        ],
        columns=["unit_code", "unit_name", "level", "channel", "rated_at", "state", "classification", "due_on",
                 "called_back", "closed_at"],
    )
    rates = (result.extras or {}).get("quality", {}).get("response_rates", [])
    frames["response_rates"] = pd.DataFrame(rates)
    frames["scheme"] = pd.DataFrame({"scheme_yaml": result.scheme.text.splitlines()})
    return frames


def build_xlsx(result: Result) -> bytes:
    """The results workbook: sheet "results" (the CSV's table) plus the explanation sheets of interfaces.md."""
    import pandas as pd
    from openpyxl.styles import Font

    frames = _sheet_frames(result)
    TWO_DECIMALS = {"composite", "assessment_points", "coverage", "deduction", "bonus", *leaf_ids(result)}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # text that looks like a formula stays text, never runs
                        cell.data_type = "s"
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for column in sheet.columns:
                width = max((len(str(c.value)) if c.value is not None else 0) for c in column[:200])
                sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.6), 60)
            sheet.freeze_panes = "A2"
            if name == "results":
                for column in sheet.iter_cols(min_row=2):
                    if frame.columns[column[0].column - 1] in TWO_DECIMALS:
                        for cell in column:
                            cell.number_format = "0.00"
    return buffer.getvalue()


# ---------------------------------------------------------------- pdf


def report_context(result: Result) -> dict:
    """What the printed report shows: the city-wide summary and one section per unit.

    Each unit's section is `reports.unit_page`, the data of the console's unit page, so both show the same rows.
    """
    from ..charts import score_bars

    period = db.session.get(Period, result.period_id)
    scheme = scoring.load_scheme(result.scheme.text)
    rows = ordered_rows(result)
    categories = {}
    for row in rows:
        categories.setdefault(row.category, []).append(row)
    grade_counts = {g: sum(1 for r in rows if r.grade == g) for g in GRADE_ZH}
    category_charts = {
        name: score_bars([(r.unit_name, r.composite, r.grade or "none") for r in members])
        for name, members in categories.items()
    }
    problems = {}
    for line in reports.problem_rows(period):
        problems.setdefault(line.unit_code, []).append(line)
    small_chart = {"label_width": 130, "half": 150, "bar_height": 12, "gap": 3}
    units = [reports.unit_page(result, row, scheme, problems.get(row.unit_code, []), small_chart) for row in rows]
    return {
        "period": period,
        "result": result,
        "scheme": scheme,
        "categories": categories,
        "category_charts": category_charts,
        "grade_counts": grade_counts,
        "units": units,
        "names": {leaf.id: leaf.name for leaf in scheme.leaves},
        "suspended": [r for r in rows if r.approvals_suspended],
        "flagged": [r for r in rows if r.review_flag],
        "low_coverage": [r for r in rows if (r.detail or {}).get("low_coverage")],
        "bar_colors": {"excellent": "#2f7d32", "good": "#5b8def", "fair": "#e0a100", "poor": "#b3261e"},
    }


def render_pdf(html: str) -> bytes:
    """HTML to PDF with WeasyPrint (fonts: Noto Sans CJK SC from fonts-noto-cjk)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def build_pdf(result: Result) -> bytes:
    """The printed report for leaders: a city-wide summary with charts, then one page per unit."""
    from flask import render_template

    return render_pdf(render_template("report/report.html", **report_context(result)))
