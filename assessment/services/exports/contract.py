"""The machine contract of interfaces.md ("Results export"): the results CSV and the xlsx sheet "results".

One row per unit, the fixed columns in order, one column per scheme leaf (its id; empty when the unit lacks
data), then deduction and bonus; rows ordered by category, then rank. `result_table` returns typed values
(floats, whole numbers, booleans, text); each writer renders them by the one rule of `spreadsheets`: two
decimals 四舍五入 in the CSV, numbers as numbers in the workbook, free text neutralised everywhere.
"""

import scoring

from ...extensions import db
from ...models import Period, Result
from ...spreadsheets import csv_bytes

FIXED_COLUMNS = [
    "period",
    "unit_code",
    "unit_name",
    "category",
    "composite",
    "rank",
    "grade",
    "assessment_points",
    "establishment_action",
    "suggested_reduction",
    "approvals_suspended",
    "coverage",
]
TAIL_COLUMNS = ["deduction", "bonus"]


def number(value) -> float | None:
    """A stored number as a float (JSON may give back 100 for 100.0); None stays None."""
    return None if value is None else float(value)


def result_table(result: Result, scheme: scoring.Scheme | None = None) -> tuple[list[str], list[list]]:
    """Header and rows of the results export (typed values), ordered by category, then rank; one column per
    leaf of the result's scheme (pass it parsed when the caller has it)."""
    period = db.session.get(Period, result.period_id)
    scheme = scheme or scoring.load_scheme(result.scheme.text)
    leaves = [leaf.id for leaf in scheme.leaves]
    out = []
    for row in result.ordered_rows():
        line = [
            period.name,
            row.unit_code,
            row.unit_name,
            row.category,
            number(row.composite),
            row.rank,
            row.grade,
            number(row.assessment_points),
            row.establishment_action,
            int(row.suggested_reduction or 0),
            bool(row.approvals_suspended),
            number(row.coverage),
        ]
        line += [number((row.leaves.get(leaf) or {}).get("value")) for leaf in leaves]
        line += [number(row.deduction), number(row.bonus)]
        out.append(line)
    return FIXED_COLUMNS + leaves + TAIL_COLUMNS, out


def build_csv(result: Result) -> bytes:
    """The results CSV (UTF-8 with BOM; comma-separated; \\n line ends; numbers with two decimals)."""
    header, rows = result_table(result)
    return csv_bytes(header, rows)
