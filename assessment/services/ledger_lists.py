"""The problem ledger's lists (问题台账): rows with the overdue and suspension tests judged on one date, the
ledger CSV of interfaces.md, a unit's pushed problems, the filing forms' options and the printable push sheet
(信息推送表). Reading only; the workflow that changes problems is in ledger.py."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import labels
from ..extensions import db
from ..models import Period, Problem, ProblemClass, ProblemSource, Severity, Unit
from ..spreadsheets import safe_text
from .ledger import DEFAULT_MONTHS
from .workdays import china_today

#: The ledger CSV's columns (interfaces.md, `assessment ledger`).
LEDGER_COLUMNS = [
    "number",
    "unit_code",
    "unit_name",
    "title",
    "source",
    "class",
    "category",
    "severity",
    "found_on",
    "deadline",
    "state",
    "closed_on",
    "overdue",
    "approvals_suspended",
]

# --------------------------------------------------------------------------------------------- lists


@dataclass
class LedgerRow:
    """A problem with the overdue test and approval suspension judged on one date (scoring.problem_flags)."""

    problem: Problem
    overdue: bool
    suspends: bool


def ledger_rows(
    period: Period,
    as_of: date | None = None,
    *,
    problem_class=None,
    state=None,
    unit_id=None,
    source=None,
    overdue_only=False,
    category=None,
) -> list[LedgerRow]:
    """The period's problems in number order, filtered, each judged on ``as_of`` (default: the period's)."""
    from scoring import problem_flags

    query = (
        select(Problem)
        .where(Problem.period_id == period.id)
        .options(selectinload(Problem.unit), selectinload(Problem.reporter))
        .order_by(Problem.year, Problem.seq)
    )
    if problem_class is not None:
        query = query.where(Problem.problem_class == problem_class)
    if state is not None:
        query = query.where(Problem.state == state)
    if unit_id is not None:
        query = query.where(Problem.unit_id == unit_id)
    if source is not None:
        query = query.where(Problem.source == source)
    if category:
        query = query.where(Problem.category == category)
    problems = list(db.session.scalars(query))
    if not problems:
        return []
    overdue, suspends = problem_flags(
        [p.deadline for p in problems], [p.closed_on for p in problems], as_of or period.as_of
    )
    rows = [LedgerRow(p, bool(o), bool(s)) for p, o, s in zip(problems, overdue, suspends, strict=True)]
    if overdue_only:
        rows = [r for r in rows if r.overdue and r.problem.closed_on is None]
    return rows


def build_csv(period: Period, rows: list | None = None) -> bytes:
    """The ledger as interfaces.md says (`assessment ledger`): UTF-8 with a BOM, judged on the period's as_of
    (`rows`: ledger_rows(period) when the caller has them already)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    for row in ledger_rows(period) if rows is None else rows:
        p = row.problem
        writer.writerow(
            [
                p.number,
                safe_text(p.unit.code),
                safe_text(p.unit.name),
                safe_text(p.title),
                p.source.value,
                p.problem_class.value,
                safe_text(p.category),
                p.severity.value,
                p.found_on.isoformat(),
                p.deadline.isoformat(),
                p.state.value,
                p.closed_on.isoformat() if p.closed_on else "",
                "true" if row.overdue else "false",
                "true" if row.suspends else "false",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def unit_problems(unit_id: int, period: Period | None = None) -> list[Problem]:
    """The problems pushed to one unit (a unit liaison's list), newest first; never another unit's."""
    query = (
        select(Problem)
        .where(Problem.unit_id == unit_id, Problem.pushed_at.is_not(None))
        .order_by(Problem.year.desc(), Problem.seq.desc())
    )
    if period is not None:
        query = query.where(Problem.period_id == period.id)
    return list(db.session.scalars(query))


def get_unit_problem(problem_id: int, unit_id: int) -> Problem | None:
    """One problem pushed to this unit, or None (the views answer "not found", giving no hint)."""
    problem = db.session.get(Problem, problem_id)
    if problem is None or problem.unit_id != unit_id or problem.pushed_at is None:
        return None
    return problem


def form_options() -> dict:
    """What the filing forms offer (the console's and a linkage department's): units, severities, classes,
    sources, the five categories."""
    units = list(db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)))
    return {
        "units": units,
        "severities": list(Severity),
        "classes": list(ProblemClass),
        "sources": list(ProblemSource),
        "categories": labels.SUPERVISION_CATEGORIES,
        "default_months": DEFAULT_MONTHS,
    }


def push_sheet_pdf(problem: Problem) -> bytes:
    """信息推送表: the printable sheet sent to the unit with the problem (WeasyPrint)."""
    from flask import render_template

    from .exports import render_pdf

    return render_pdf(render_template("report/push_sheet.html", problem=problem, today=china_today()))
