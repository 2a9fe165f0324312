"""What the result pages and the printed report show: one data function per page, reused by the PDF.

CTFd's scoreboard view and its CSV export both call one `get_standings()`; here the console's unit page and the
unit's pages of the printed report both call `unit_page()`, and the ledger's overdue flags come from
`problem_rows()` (the engine's rule, `scoring.problem_flags`), so no template decides what is overdue.
"""

from dataclasses import dataclass

import scoring

from ..charts import diverging_bars
from ..extensions import db
from ..models import Period, Problem, Result, ResultRow, Unit


@dataclass
class ProblemLine:
    """A ledger problem as pages show it: the problem and its flags on the period's as_of date."""

    problem: Problem
    unit_code: str
    unit_name: str
    #: 超期: open past its deadline, or closed after it.
    overdue: bool
    #: 审批联动: still open past its deadline on as_of.
    suspends: bool


def problem_rows(period: Period, unit_code: str | None = None) -> list[ProblemLine]:
    """The period's problems (one unit's when `unit_code` is given) with their overdue test, by unit, found_on."""
    query = (
        db.select(Problem, Unit.code, Unit.name)
        .join(Unit, Problem.unit_id == Unit.id)
        .where(Problem.period_id == period.id)
        .order_by(Unit.code, Problem.found_on, Problem.id)
    )
    if unit_code is not None:
        query = query.where(Unit.code == unit_code)
    rows = db.session.execute(query).all()
    overdue, suspends = scoring.problem_flags(
        [p.deadline for p, _, _ in rows], [p.closed_on for p, _, _ in rows], period.as_of
    )
    return [
        ProblemLine(p, code, name, bool(o), bool(s))
        for (p, code, name), o, s in zip(rows, overdue.tolist(), suspends.tolist(), strict=True)
    ]


def unit_page(
    result: Result,
    row: ResultRow,
    scheme: scoring.Scheme | None = None,
    problems: list[ProblemLine] | None = None,
    chart_size: dict | None = None,
) -> dict:
    """One unit's page of a result version: the console's unit page and the unit's pages of the PDF report.

    Returns the row, its leaves in scheme order [(leaf, {value, n, contribution, suppressed})], the number of
    ranked units of its category, its problems with their overdue test, its public-rating figures and the
    contribution chart. `scheme` and `problems` may be passed in when a caller builds many pages at once.
    """
    scheme = scheme or scoring.load_scheme(result.scheme.text)
    if problems is None:
        problems = problem_rows(db.session.get(Period, result.period_id), row.unit_code)
    leaf_rows = [(leaf, row.leaves.get(leaf.id) or {}) for leaf in scheme.leaves]
    return {
        "row": row,
        "leaf_rows": leaf_rows,
        "names": {leaf.id: leaf.name for leaf in scheme.leaves},
        "size": sum(1 for r in result.rows if r.category == row.category and r.rank is not None),
        "problems": problems,
        "public": next((p for p in (result.extras or {}).get("public", []) if p.get("unit") == row.unit_code), None),
        "chart": diverging_bars(
            [(leaf.name, data.get("contribution")) for leaf, data in leaf_rows if not leaf.is_deduction],
            **(chart_size or {}),
        ),
    }
