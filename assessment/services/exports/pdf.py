"""The printed report for leaders (WeasyPrint, A4): a city-wide summary, then one page per unit.

Speed. WeasyPrint lays out about five pages a second on one core, so the report's pages are laid out in
parallel on the machine's cores and joined with pikepdf. That needs every page's number before it is laid out,
so the report is paginated here, not by the browser engine: the summary is cut into pages of a known size
(`summary_pages`: a ranking table or heat map never has more rows than a page holds) and each unit has exactly
one page. Each part is then a small document whose first page number and the total are written into its
header (`@page :first { counter-reset: page N }`). If a part still comes out longer than planned, the parts are
laid out again with the real page counts (up to LAYOUT_ATTEMPTS layouts; if the counts never settle the build
fails rather than print wrong numbers), so the numbering is never wrong — only slower.

The charts are `assessment.charts` (the same SVG the console shows); the data of a unit's page is
`reports.unit_page`, the function the console's unit page calls.
"""

import base64
import io
import logging
import math
import os
import re
import time
import zipfile
from dataclasses import dataclass

from markupsafe import Markup

import scoring

from ... import labels
from ...charts import heat_map, ranking_chart
from ...extensions import db
from ...models import Period, Result
from .. import reports

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


def contribution_bars(leaf_rows) -> dict[str, tuple[float, bool]]:
    """The unit page's contribution chart, drawn in the indicator table beside each number: per weighted leaf
    its bar length (% of the half-cell; the largest contribution fills it) and whether it lifts (True) or sinks
    the unit. Bars in table cells carry no text of their own, so the chart costs the page no extra text boxes
    (an SVG chart repeating the indicator names was a quarter of a unit page's layout time)."""
    values = {
        leaf.id: data.get("contribution")
        for leaf, data in leaf_rows
        if not leaf.is_deduction and data.get("contribution") is not None
    }
    span = max((abs(v) for v in values.values()), default=0.0) or 1.0
    return {leaf: (round(min(100.0, abs(v) / span * 100), 1), v >= 0) for leaf, v in values.items()}


#: Height of a body row of a unit page's indicator table when its contribution chart is one picture: a 9 pt
#: line (13.05 pt), its padding and rule take 5.75 mm, so every one-line row is exactly this high.
ROW_MM = 5.8
#: What one line holds, in ems of the table's 9 pt type: the indicator column (23 % of the 182 mm text width,
#: less 2.4 mm padding) and the level-1 column (11 %), with a little to spare.
NAME_EMS, LEVEL1_EMS = 12.0, 5.3
#: More rows than this and the chart is drawn row by row (a table that long may not stay on one page).
CHART_MAX_ROWS = 24


def _ems(text: str) -> float:
    """Width of `text` in ems, on the safe side: a CJK character one em, anything else 0.7."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.7 for ch in str(text))


def contribution_chart(leaf_rows, bars: dict, runs: dict[int, int]) -> Markup | None:
    """The unit page's contribution chart as one picture filling the table's last column beside all its rows
    (a data: URI of an SVG of rectangles, no text), or None when a row might take two lines.

    Why: drawn row by row, the two bar cells and the bar of every row were a fifth of a unit page's layout time
    (the unit pages are most of the report). One picture costs WeasyPrint next to nothing, but its bars only
    line up with the rows if every row is one line of ROW_MM: so the picture is used only when every indicator
    name fits its line and every level-1 name fits the rows it spans (`_ems`, on the safe side); otherwise the
    template draws the bars in the rows as before. Same drawing: the axis, a red bar left of it (sinks the unit)
    or a green one right of it (lifts it), as long as `contribution_bars` says, the rows' rules across."""
    leaves = [leaf for leaf, _ in leaf_rows]
    if not leaves or len(leaves) > CHART_MAX_ROWS:
        return None
    if any(_ems(leaf.name) > NAME_EMS for leaf in leaves):
        return None
    if any(math.ceil(_ems(leaves[start].level1) / LEVEL1_EMS) > length for start, length in runs.items()):
        return None
    n = len(leaves)
    # Units: the column is 1000 wide and each row 100 high; the picture is stretched to the column
    # (preserveAspectRatio="none"), so only filled shapes, whose look survives the stretch; one path per colour
    # (WeasyPrint's cost is per SVG element).
    bar_h, rule_h, axis_w = 2.4 / ROW_MM * 100, 0.4 / 72 * 25.4 / ROW_MM * 100, 4.5

    def box(x, y, width, height):
        return f"M{x:.1f} {y:.1f}h{width:.1f}v{height:.1f}h{-width:.1f}z"

    rules, lifts, sinks = [], [], []
    for i, leaf in enumerate(leaves):
        rules.append(box(0, (i + 1) * 100 - rule_h, 1000, rule_h))
        bar = bars.get(leaf.id)
        if bar:
            length = bar[0] / 100 * 500
            (lifts if bar[1] else sinks).append(
                box(500 if bar[1] else 500 - length, i * 100 + (100 - bar_h) / 2, length, bar_h)
            )
    shapes = [
        f'<path d="{"".join(d)}" fill="{colour}"/>'
        for d, colour in ((rules, "#d9e2ec"), (lifts, "#2f7d32"), (sinks, "#b3261e"))
        if d
    ]
    shapes.append(f'<path d="{box(500 - axis_w / 2, 0, axis_w, n * 100)}" fill="#7b8794"/>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 {n * 100}" preserveAspectRatio="none">'
        + "".join(shapes)
        + "</svg>"
    )
    return Markup("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii"))


def level1_runs(leaves) -> dict[int, int]:
    """Where each run of consecutive leaves with the same level-1 indicator starts, and its length: the unit
    page writes the level-1 name once per run (rowspan), not once per row."""
    runs: dict[int, int] = {}
    start = 0
    for i, leaf in enumerate(leaves):
        if i and leaf.level1 != leaves[i - 1].level1:
            start = i
        runs[start] = runs.get(start, 0) + 1
    return runs


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


_TOOLTIP = re.compile(r"<title>[^<]*</title>")


def picture(svg: Markup | None) -> Markup | None:
    """A chart (`assessment.charts`, the console's drawing) as the printed report embeds it: an <img> whose
    source is the SVG as a data: URI, without the tooltips (<title>, for the console's mouse, not for paper).

    Written inline, an SVG's elements are parsed by the HTML parser, styled by the page's cascade and written out
    again for WeasyPrint's SVG renderer; as an image it is parsed once, by the XML parser. A page of heat maps
    (about 2,500 SVG elements) took 40 % less time. Same size: the <svg>'s own width and height."""
    if svg is None:
        return None
    data = base64.b64encode(_TOOLTIP.sub("", str(svg)).encode()).decode("ascii")
    return Markup(f'<img class="chart" alt="" src="data:image/svg+xml;base64,{data}">')


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
