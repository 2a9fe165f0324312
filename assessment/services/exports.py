"""Results exports: `build_*` functions return bytes; only the route or the CLI writes or sends them.

The CSV layout is the contract of interfaces.md ("Results export"): one row per unit, the fixed columns in
order, one column per scheme leaf (its id; empty when the unit lacks data), then deduction and bonus; numbers
with two decimals; rows ordered by category, then rank.
"""

import csv
import io

import scoring

from ..extensions import db
from ..models import Period, Result
from .scoring import ordered_rows

FIXED_COLUMNS = [
    "period", "unit_code", "unit_name", "category", "composite", "rank", "grade", "assessment_points",
    "establishment_action", "suggested_reduction", "approvals_suspended", "coverage",
]
TAIL_COLUMNS = ["deduction", "bonus"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def two(value) -> str:
    """A number as exported: two decimals, empty when there is none."""
    if value is None:
        return ""
    return f"{float(value):.2f}"


def safe_text(value) -> str:
    """Neutralise free text that a spreadsheet would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


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
