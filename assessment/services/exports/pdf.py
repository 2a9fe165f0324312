"""The printed report for leaders (WeasyPrint, A4): a city-wide summary, then one page per unit.

Speed. WeasyPrint lays out about five pages a second on one core, so the report's pages are laid out in
parallel on the machine's cores and joined with pikepdf. That needs every page's number before it is laid out,
so the report is paginated here, not by the browser engine: the summary is cut into pages of a known size
(`summary_pages`: a ranking table or heat map never has more rows than a page holds) and each unit has exactly
one page. Each part is then a small document whose first page number and the total are written into its
header (`@page :first { counter-reset: page N }`). If a part still comes out longer than planned, the parts are
laid out again with the real page counts (up to LAYOUT_ATTEMPTS layouts; if the counts never settle the build
fails rather than print wrong numbers), so the numbering is never wrong — only slower.

The charts are `assessment.charts` (the same SVG the console shows), embedded as images, and the unit page's
contribution chart is one picture (`pdf_charts`, shapes chosen for WeasyPrint's cost); the data of a unit's page
is `reports.unit_page`, the function the console's unit page calls.
"""

import io
import logging
import os
import time
import zipfile
from dataclasses import dataclass

import scoring

from ... import labels
from ...charts import heat_map, ranking_chart
from ...extensions import db
from ...models import Period, Result
from .. import reports
from .pdf_charts import ROW_MM, contribution_bars, contribution_chart, level1_runs, picture

log = logging.getLogger(__name__)

#: Rows a summary page holds: ranking bars (with the table on the same page up to TABLE_WITH_CHART units), ranking
#: table rows on a page of its own, heat-map rows.
CHART_ROWS = 48
TABLE_WITH_CHART = 22
TABLE_ROWS = 40
HEAT_ROWS = 40
#: Open and overdue problems listed on a unit's page (the rest are counted), so the page stays one page.
UNIT_PROBLEMS = 6
#: Below twice this many pages the report is laid out in one process (forking would cost more than it saves).
MIN_PART_PAGES = 6


@dataclass
class Pdf:
    """A rendered PDF and its page count."""

    content: bytes
    pages: int


# ---------------------------------------------------------------- what the pages show


def _chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def method_summary(result: Result, scheme: scoring.Scheme) -> dict:
    """How the evaluation was run: per indicator its source, weight, minimum sample, how many units have a
    score and the median sample; the data quality (`reports.quality_summary`, the console's too)."""
    rows = result.rows
    indicators = []
    for leaf in scheme.leaves:
        values = [reports.leaf_cell(r.leaves.get(leaf.id)) for r in rows]
        sizes = sorted(v["n"] for v in values if v["n"] is not None)
        indicators.append(
            {
                "leaf": leaf,
                "source": labels.LEAF_SOURCE_ZH.get(leaf.source, leaf.source),
                "min_n": scheme.leaf_min_n(leaf),
                "scored": sum(1 for v in values if v["value"] is not None),
                "suppressed": sum(1 for v in values if v["suppressed"]),
                "median_n": sizes[len(sizes) // 2] if sizes else None,
            }
        )
    quality = reports.quality_summary(result, scheme)
    return {
        "indicators": indicators,
        "response": quality["instruments"],
        "towns": quality["towns"],
        "straight_liners": quality["straight_count"],
        "public_n": quality["public_n"],
        "public_mean": quality["public_mean"],
        "public_units": quality["public_units"],
    }


def unit_sheet(result: Result, row, scheme: scoring.Scheme, problems: list) -> dict:
    """A unit's printed page: `reports.unit_page` (what the console's unit page shows) and how it is printed —
    the contribution bars, the level-1 runs, the open or overdue problems listed (at most UNIT_PROBLEMS)."""
    unit = reports.unit_page(result, row, scheme, problems)
    unit["bars"] = contribution_bars(unit["leaf_rows"])
    unit["level1_runs"] = level1_runs([leaf for leaf, _ in unit["leaf_rows"]])
    unit["chart"] = contribution_chart(unit["leaf_rows"], unit["bars"], unit["level1_runs"])
    unit["chart_mm"] = round(len(unit["leaf_rows"]) * ROW_MM, 2)
    listed = [line for line in unit["problems"] if line.overdue or line.problem.closed_on is None]
    unit["listed_problems"] = listed[:UNIT_PROBLEMS]
    unit["more_problems"] = len(listed) - len(unit["listed_problems"])
    unit["open_problems"] = sum(1 for line in unit["problems"] if line.problem.closed_on is None)
    unit["overdue_problems"] = sum(1 for line in unit["problems"] if line.overdue)
    return unit


def report_context(result: Result) -> dict:
    """Everything the printed report shows: the summary's data and one `reports.unit_page` per unit."""
    period = db.session.get(Period, result.period_id)
    scheme = scoring.load_scheme(result.scheme.text)
    rows = result.ordered_rows()
    categories: dict[str, list] = {}
    for row in rows:
        categories.setdefault(row.category, []).append(row)
    problems: dict[str, list] = {}
    for line in reports.problem_rows(period):
        problems.setdefault(line.unit_code, []).append(line)
    units = [unit_sheet(result, row, scheme, problems.get(row.unit_code, [])) for row in rows]
    return {
        "period": period,
        "result": result,
        "scheme": scheme,
        "rows": rows,
        "categories": categories,
        "grade_counts": {g: sum(1 for r in rows if r.grade == g and r.composite is not None) for g in labels.GRADE_ZH},
        "units": units,
        "names": {leaf.id: leaf.name for leaf in scheme.leaves},
        "suspended": [r for r in rows if r.approvals_suspended],
        "flagged": [r for r in rows if r.review_flag],
        "low_coverage": [r for r in rows if (r.detail or {}).get("low_coverage")],
        "method": method_summary(result, scheme),
    }


def summary_pages(context: dict) -> list[dict]:
    """The summary cut into pages, each of a size known to fit one A4 page.

    1. 评价概况 (figures, rules, flags, indicators and weights); 2. 样本与回收 (response rates, public ratings);
    then per category the ranked bar chart with its table (or the chart, then table pages, for a big category);
    then the unit × indicator heat maps, categories packed onto pages of HEAT_ROWS rows.
    """
    pages = [{"kind": "overview"}, {"kind": "samples"}]
    chart_size = {"width": 660, "label_width": 170, "font_size": 9, "bar_height": 11, "gap": 3}
    chart_size["lines"] = reports.grade_lines(context["scheme"])
    for category, members in context["categories"].items():
        if len(members) <= TABLE_WITH_CHART:
            pages.append(
                {
                    "kind": "ranking",
                    "category": category,
                    "count": len(members),
                    "chart": picture(ranking_chart(members, title=f"{category}排名", **chart_size)),
                    "table": members,
                    "first": True,
                }
            )
            continue
        for i, chunk in enumerate(_chunks(members, CHART_ROWS)):
            pages.append(
                {
                    "kind": "ranking",
                    "category": category,
                    "count": len(members),
                    "first": i == 0,
                    "chart": picture(ranking_chart(chunk, title=f"{category}排名", **chart_size)),
                    "table": None,
                }
            )
        for chunk in _chunks(members, TABLE_ROWS):
            pages.append(
                {
                    "kind": "ranking",
                    "category": category,
                    "count": len(members),
                    "first": False,
                    "chart": None,
                    "table": chunk,
                }
            )
    heat_size = {"label_width": 170, "cell_width": 36, "cell_height": 15, "font_size": 9, "header_height": 80}
    page, used = [], 0
    for category, members in context["categories"].items():
        for part, chunk in enumerate(_chunks(members, HEAT_ROWS)):
            cost = len(chunk) + 8  # the category's name, the column header and the title: about eight rows
            if page and used + cost > HEAT_ROWS + 8:
                pages.append({"kind": "heat", "maps": page})
                page, used = [], 0
            page.append(
                {
                    "category": category,
                    "part": part,
                    "chart": picture(
                        heat_map(chunk, context["scheme"].leaves, title=f"{category}指标得分", **heat_size)
                    ),
                }
            )
            used += cost
    if page:
        pages.append({"kind": "heat", "maps": page})
    return pages


# ---------------------------------------------------------------- rendering in parts


def _part_html(context: dict, pages: list[dict], first_page: int, total: int, title: str) -> str:
    from flask import render_template

    return render_template(
        "report/report.html",
        pages=pages,
        first_page=first_page,
        total_pages=total,
        doc_title=title,
        row_mm=ROW_MM,
        **context,
    )


def render_pdf(html: str) -> bytes:
    """One HTML document to PDF bytes (WeasyPrint, fonts embedded): invitation sheets, push sheets."""
    return render_part(html)[0]


def render_part(html: str) -> tuple[bytes, int]:
    """One part: HTML to PDF bytes and its page count (fonts: Noto Sans CJK SC from fonts-noto-cjk)."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


def _lower_priority(nice: int):
    """Pool processes yield the cores to the app's request workers (devices, raters) when both want them."""
    if nice:
        try:
            os.nice(nice)
        except OSError:  # pragma: no cover - not permitted here
            pass


def _processes(requested: int | None) -> int:
    from flask import current_app

    configured = requested or current_app.config["REPORT_PROCESSES"] or os.cpu_count() or 1
    return max(1, int(configured))


def _render_all(
    htmls: list[str], processes: int, progress=None, step: str = "report", weights: list[int] | None = None
) -> list[tuple[bytes, int]]:
    """Render the parts, in a pool of `processes` forked processes when there is more than one part."""
    weights = weights or [1] * len(htmls)
    total, done = sum(weights), 0
    out: list = [None] * len(htmls)
    if progress:
        progress(0, total, step)
    if processes <= 1 or len(htmls) <= 1:
        for i, html in enumerate(htmls):
            out[i] = render_part(html)
            done += weights[i]
            if progress:
                progress(done, total, step)
        return out
    import multiprocessing

    import weasyprint  # noqa: F401  (imported once here, so the forked processes start with it loaded)
    from flask import current_app

    context = multiprocessing.get_context("fork")
    with context.Pool(
        min(processes, len(htmls)), initializer=_lower_priority, initargs=(current_app.config["REPORT_NICE"],)
    ) as pool:
        for i, part in pool.imap_unordered(_render_indexed, list(enumerate(htmls))):
            out[i] = part
            done += weights[i]
            if progress:
                progress(done, total, step)
    return out


def _render_indexed(item):
    index, html = item
    return index, render_part(html)


def _join(parts: list[bytes], outline: list[tuple[str, int]], title: str) -> bytes:
    """Join the parts' pages into one PDF, with a bookmark per section (title, page index).

    pikepdf (qpdf) rather than pypdf: pypdf parses every object in Python and took ~10x as long (2.4 s against
    0.27 s for the demo city's 72 pages on a busy machine), which would have been a serial tail after the
    parallel layout."""
    import pikepdf

    joined = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(content)) for content in parts]
    for source in sources:
        joined.pages.extend(source.pages)
    with joined.open_outline() as tree:
        tree.root.extend(pikepdf.OutlineItem(text, page) for text, page in outline)
    joined.docinfo["/Title"] = title
    joined.docinfo["/Creator"] = "机关职能运行监管评价平台"
    buffer = io.BytesIO()
    joined.save(buffer)
    for source in sources:
        source.close()
    return buffer.getvalue()


#: Relative layout cost of a page by kind, in unit pages (measured as WeasyPrint's Python calls per page of the
#: demo city, since charts are images: a heat-map page of 40 rows 2.6, the overview 1.6, a ranking page 1.3).
PAGE_COST = {"overview": 1.6, "samples": 1.2, "ranking": 1.3, "heat": 2.6, "unit": 1.0}


def _plan(pages: list[dict], processes: int) -> list[list[dict]]:
    """Consecutive pages cut into one part per process, of about equal layout cost (PAGE_COST): every part
    embeds its own font subset, so more parts cost more in all, and equal costs keep the cores busy together."""
    if processes <= 1 or len(pages) < 2 * MIN_PART_PAGES:
        return [pages]
    costs = [PAGE_COST.get(page["kind"], 1.0) for page in pages]
    share = sum(costs) / processes
    parts, current, spent = [], [], 0.0
    for page, cost in zip(pages, costs, strict=True):
        if current and spent + cost / 2 > share * (len(parts) + 1) and len(parts) < processes - 1:
            parts.append(current)
            current = []
        current.append(page)
        spent += cost
    parts.append(current)
    return parts


#: Layouts of the report before giving up on exact page numbers: the first with the planned page counts, then
#: with the counts the layout gave (a part that ran over), which normally settle at once.
LAYOUT_ATTEMPTS = 3


def build_pdf(result: Result, progress=None, processes: int | None = None, context: dict | None = None) -> Pdf:
    """The printed report of a result version: the summary pages, then one page per unit, numbered through.
    `context` (`report_context`) may be passed in when the caller builds the units' zip from it too."""
    context = context or report_context(result)
    pages = summary_pages(context) + [{"kind": "unit", "unit": unit} for unit in context["units"]]
    title = f"{context['period'].name} 年度机关职能运行监管评价结果"
    processes = _processes(processes)
    parts = _plan(pages, processes)
    counts = [len(part) for part in parts]
    for _attempt in range(LAYOUT_ATTEMPTS):
        firsts = [1 + sum(counts[:i]) for i in range(len(parts))]
        total = sum(counts)
        htmls = [_part_html(context, part, first, total, title) for part, first in zip(parts, firsts, strict=True)]
        rendered = _render_all(htmls, processes, progress, "report", weights=counts)
        actual = [n for _, n in rendered]
        if actual == counts:
            break
        log.warning("report parts ran over their planned pages (%s, planned %s): numbering them again", actual, counts)
        counts = actual
    else:
        raise RuntimeError(f"the report's parts kept changing length ({counts}): page numbers would be wrong")
    outline, first = [], 0
    for part, count in zip(parts, counts, strict=True):
        exact = count == len(part)  # else only the part's first page is known
        for offset, page in enumerate(part):
            text = _bookmark(page, outline)
            if text and (exact or offset == 0):
                outline.append((text, first + (offset if exact else 0)))
        first += count
    started = time.perf_counter()
    content = _join([content for content, _ in rendered], outline, title)
    log.info("joined %d parts in %.2f s", len(rendered), time.perf_counter() - started)
    return Pdf(content, sum(counts))


def _bookmark(page: dict, outline: list) -> str | None:
    """The bookmark a page starts, if any: the overview, each category's ranking, the heat maps, each unit."""
    if page["kind"] == "overview":
        return "评价概况"
    if page["kind"] == "ranking" and page.get("first"):
        return f"{page['category']}排名"
    if page["kind"] == "heat" and not any(text == "单位 × 指标得分" for text, _ in outline):
        return "单位 × 指标得分"
    if page["kind"] == "unit":
        row = page["unit"]["row"]
        return f"{row.unit_name}（{row.unit_code}）"
    return None


def _unit_context(result: Result, code: str) -> dict | None:
    """What one unit's pages need, and only that (no city-wide summary): fast enough to lay out on request."""
    row = next((r for r in result.rows if r.unit_code == code), None)
    if row is None:
        return None
    period = db.session.get(Period, result.period_id)
    scheme = scoring.load_scheme(result.scheme.text)
    unit = unit_sheet(result, row, scheme, reports.problem_rows(period, code))
    return {
        "period": period,
        "result": result,
        "scheme": scheme,
        "names": {leaf.id: leaf.name for leaf in scheme.leaves},
        "unit": unit,
    }


def _unit_html(context: dict, unit: dict, pages: int = 1) -> str:
    row = unit["row"]
    return _part_html(
        context,
        [{"kind": "unit", "unit": unit, "alone": True}],
        1,
        pages,
        f"{context['period'].name} 年度评价结果 · {row.unit_name}",
    )


def _render_unit(context: dict, unit: dict) -> bytes:
    content, pages = render_part(_unit_html(context, unit))
    if pages != 1:  # a unit's page ran over: number it again with its real length
        content, _ = render_part(_unit_html(context, unit, pages))
    return content


def build_unit_pdf(result: Result, code: str) -> bytes | None:
    """One unit's pages alone (to send to that unit), numbered on their own; None for an unknown unit code."""
    context = _unit_context(result, code)
    if context is None:
        return None
    return _render_unit(context, context["unit"])


def unit_file_name(row) -> str:
    """A unit's file name in the zip: code and name (the zip marks names as UTF-8)."""
    name = "".join(ch for ch in row.unit_name if ch not in '\\/:*?"<>|')
    return f"{row.unit_code}_{name}.pdf"


def build_units_zip(result: Result, progress=None, processes: int | None = None, context: dict | None = None) -> bytes:
    """Every unit's pages as its own PDF, in one zip, to send to the units (`context` as for `build_pdf`)."""
    context = context or report_context(result)
    units = context["units"]
    htmls = [_unit_html(context, unit) for unit in units]
    rendered = _render_all(htmls, _processes(processes), progress, "units")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for unit, (content, pages) in zip(units, rendered, strict=True):
            if pages != 1:
                content = render_part(_unit_html(context, unit, pages))[0]
            archive.writestr(unit_file_name(unit["row"]), content)
    return buffer.getvalue()
