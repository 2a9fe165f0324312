"""What the printed report draws for itself (services/exports/pdf.py lays the pages out): the unit page's
contribution bars and level-1 runs, the contribution chart as one picture, and the charts of `assessment.charts`
as images. Each shape here is chosen for WeasyPrint's cost: see bench/README.md (bench/export.py)."""

import base64
import math
import re

from markupsafe import Markup


def contribution_bars(leaf_rows) -> dict[str, tuple[float, bool]]:
    """The unit page's contribution chart, drawn in the indicator table's last column beside each number: per
    weighted leaf its bar length (% of half the column; the largest contribution fills it) and whether it lifts
    (True) or sinks the unit. The bars carry no text of their own, so the chart costs the page no extra text
    boxes (an SVG chart repeating the indicator names was a quarter of a unit page's layout time); they are
    drawn by `contribution_chart` as one picture, or in the rows when that cannot line up."""
    values = {
        leaf.id: data.get("contribution")
        for leaf, data in leaf_rows
        if not leaf.is_deduction and data.get("contribution") is not None
    }
    span = max((abs(v) for v in values.values()), default=0.0) or 1.0
    return {leaf: (round(min(100.0, abs(v) / span * 100), 1), v >= 0) for leaf, v in values.items()}


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
