"""What the result pages and the printed report show: one data function per page, reused by the PDF.

CTFd's scoreboard view and its CSV export both call one `get_standings()`; here the console's unit page and the
unit's pages of the printed report both call `unit_page()`, every leaf cell goes through `leaf_cell()` (the one
样本不足 rule), the data-quality summary is `quality_summary()` for both, and the ledger's overdue flags come from
`problem_rows()` (the engine's rule, `scoring.problem_flags`), so no template decides what is overdue.
"""

from dataclasses import dataclass

import scoring

from .. import charts, labels
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


def leaf_cell(data: dict | None) -> dict:
    """One leaf of one unit as every page and export shows it: {value, n, contribution, suppressed, text}.

    The one rule for a group under its minimum sample (样本不足): value, n and contribution are all None, so no
    page or sheet prints the size of a group below its anonymity floor, and `text` is labels.TOO_FEW_ZH. A leaf
    without a value has no sample size either. Points for value and contribution; n in raters.
    """
    data = data or {}
    value = data.get("value")
    if value is None and data.get("suppressed"):
        return {"value": None, "n": None, "contribution": None, "suppressed": True, "text": labels.TOO_FEW_ZH}
    return {
        "value": value,
        "n": data.get("n") if value is not None else None,
        "contribution": data.get("contribution"),
        "suppressed": False,
        "text": None,
    }


def unit_page(
    result: Result,
    row: ResultRow,
    scheme: scoring.Scheme | None = None,
    problems: list[ProblemLine] | None = None,
) -> dict:
    """One unit's page of a result version: the console's unit page and the unit's pages of the PDF report.

    Returns the row, its leaves in scheme order [(leaf, `leaf_cell`)], the number of ranked units of its
    category, its problems with their overdue test and its public-rating figures. `scheme` and `problems` may be
    passed in when a caller builds many pages at once. Charts are the caller's: each page draws its own.
    """
    scheme = scheme or scoring.load_scheme(result.scheme.text)
    if problems is None:
        problems = problem_rows(db.session.get(Period, result.period_id), row.unit_code)
    return {
        "row": row,
        "leaf_rows": [(leaf, leaf_cell(row.leaves.get(leaf.id))) for leaf in scheme.leaves],
        "names": {leaf.id: leaf.name for leaf in scheme.leaves},
        "size": sum(1 for r in result.rows if r.category == row.category and r.rank is not None),
        "problems": problems,
        "public": next((p for p in (result.extras or {}).get("public", []) if p.get("unit") == row.unit_code), None),
    }


def grade_lines(scheme: scoring.Scheme) -> tuple[float, float]:
    """The two score lines the charts draw (points): below the first is 较差, from the second 良好 is possible."""
    return scheme.grades.poor_below, scheme.grades.good_from


def unit_comparison(result: Result, row: ResultRow, leaf_rows, scheme: scoring.Scheme) -> dict:
    """The unit against its category: per weighted leaf its score beside the category's mean, lowest and
    highest (points), and the category's ranking chart with the unit marked."""
    members = [r for r in result.ordered_rows() if r.category == row.category]
    items = []
    for leaf, cell in leaf_rows:
        if leaf.is_deduction:
            continue
        values = [v for r in members if (v := ((r.leaves or {}).get(leaf.id) or {}).get("value")) is not None]
        items.append(
            (
                leaf.name,
                cell["text"] if cell["suppressed"] else cell["value"],
                sum(values) / len(values) if values else None,
                min(values, default=None),
                max(values, default=None),
            )
        )
    composites = [r.composite for r in members if r.composite is not None]
    return {
        "leaves": charts.compare_chart(items, width=480),
        "ranking": charts.ranking_chart(
            members, width=440, label_width=145, highlight=row.unit_code, lines=grade_lines(scheme)
        ),
        "mean": sum(composites) / len(composites) if composites else None,
        "count": len(members),
    }


def quality_summary(result: Result, scheme: scoring.Scheme) -> dict:
    """Data quality of a result, for the console and the printed report alike: per instrument (in
    labels.INSTRUMENT_ZH order) the assigned and submitted questionnaires, the response rate (0-1), the
    agreement (Krippendorff's alpha, with its reading) and the straight-liners counted; the towns' grassroots
    response rates, lowest first; the straight-liners themselves (rater codes: the caller decides who sees them);
    the public ratings counted."""
    quality = (result.extras or {}).get("quality") or {}
    rates: dict[str, dict] = {}
    towns = []
    for line in quality.get("response_rates", []):
        entry = rates.setdefault(line["instrument"], {"assigned": 0, "submitted": 0})
        entry["assigned"] += line.get("assigned") or 0
        entry["submitted"] += line.get("submitted") or 0
        if line["instrument"] == "grassroots" and line.get("town"):
            towns.append(line)
    alpha = {line["instrument"]: line.get("alpha") for line in quality.get("alpha", [])}
    liners = quality.get("straight_liners", [])
    straight: dict[str, int] = {}
    for line in liners:
        straight[line["instrument"]] = straight.get(line["instrument"], 0) + 1
    instruments = []
    for key in labels.INSTRUMENT_ZH:
        if key not in rates and key not in alpha:
            continue
        assigned, submitted = rates.get(key, {}).get("assigned", 0), rates.get(key, {}).get("submitted", 0)
        instruments.append(
            {
                "key": key,
                "name": labels.INSTRUMENT_ZH[key],
                "assigned": assigned,
                "submitted": submitted,
                "rate": submitted / assigned if assigned else None,
                "alpha": alpha.get(key),
                "alpha_text": labels.alpha_reading(alpha.get(key)),
                "straight": straight.get(key, 0),
            }
        )
    public = (result.extras or {}).get("public") or []
    return {
        "instruments": instruments,
        "towns": sorted(towns, key=lambda t: t.get("rate") or 0),
        "straight_liners": liners,
        "straight_count": len(liners),
        "straight_min": scheme.straight_line_min,
        "public_n": sum(p.get("n") or 0 for p in public),
        "public_mean": next((p.get("city_mean") for p in public if p.get("city_mean") is not None), None),
        "public_units": sum(1 for p in public if p.get("n")),
    }


def result_figures(result: Result, scheme: scoring.Scheme, by_category: dict, quality: dict) -> dict:
    """The results page's charts: the composites' distribution, and per category the ranking, the heat map
    and the rank intervals; the response rates per instrument and per town (the 80% line marked)."""
    lines = grade_lines(scheme)
    return {
        "distribution": charts.distribution_chart([r.composite for r in result.rows], width=480, lines=lines),
        "categories": {
            category: {
                "ranking": charts.ranking_chart(rows, width=440, label_width=145, lines=lines),
                "heat": charts.heat_map(rows, scheme.leaves),
                "intervals": charts.rank_intervals(rows, width=440, label_width=145),
            }
            for category, rows in by_category.items()
        },
        "response": charts.share_bars(
            [(q["name"], q["rate"], f"{q['submitted']}/{q['assigned']}") for q in quality["instruments"]],
            mark=RESPONSE_MARK,
            title="各问卷回收率",
            width=440,
        ),
        "towns": charts.share_bars(
            [(t["town"], t["rate"], f"{t['submitted']}/{t['assigned']}") for t in quality["towns"]],
            mark=RESPONSE_MARK,
            title="镇街评议回收率",
            width=440,
        ),
    }


#: The response rate the office hopes for (0-1): the dashed line of the response charts.
RESPONSE_MARK = 0.8
