"""Finished SVG charts shared by the console and the printed report.

Each function returns a whole <svg> element as markupsafe.Markup, so the console page and the printed report
embed the very same drawing (`{{ chart }}`): every style is an attribute (WeasyPrint and browsers agree on those),
a viewBox lets the chart shrink to a phone's width, and every number is written by the engine's rounding
(`format_half_up`). Each returns None when there is nothing to draw.
"""

from itertools import pairwise

from markupsafe import Markup, escape

from scoring.rounding import format_half_up

from ..labels import TOO_FEW_ZH

GRADE_COLOURS = {"excellent": "#2f7d32", "good": "#3b6fd8", "fair": "#d08c00", "poor": "#b3261e"}
NO_GRADE_COLOUR = "#9aa5b1"
#: Background of a heat-map cell by score (points 0-100): red below 60, amber to 80, green above.
HEAT_STOPS = ((40.0, (244, 187, 181)), (60.0, (253, 233, 182)), (80.0, (205, 232, 196)), (100.0, (120, 190, 125)))
FONT = '"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif'


def _fmt(value, digits=2, sign=False):
    """A number as the engine rounds it (四舍五入), a dash when there is none."""
    return format_half_up(value, digits, sign=sign, empty="—")


def _fit(label: str, room: float, font_size: float) -> str:
    """`label` cut with an ellipsis so it fits `room` pixels (a CJK character is about one em wide)."""

    def width(text):
        return sum(font_size if ord(ch) > 0x2E7F else font_size * 0.6 for ch in text)

    label = str(label)
    if width(label) <= room:
        return label
    while label and width(label + "…") > room:
        label = label[:-1]
    return label + "…"


def _svg(width: float, height: float, body: list[str], label: str, font_size: float) -> Markup:
    """The outer <svg>: natural size, a viewBox so CSS may shrink it (`svg.chart {max-width:100%;
    height:auto}` in the console's stylesheet), an accessible name."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'font-family=\'{FONT}\' font-size="{font_size:g}" fill="#1f2933">' + "".join(body) + "</svg>"
    )


def heat_colour(value) -> str:
    """The heat map's cell colour for a score in points (0-100); light grey when there is none."""
    if value is None:
        return "#eef2f7"
    value = float(value)
    if value <= HEAT_STOPS[0][0]:
        rgb = HEAT_STOPS[0][1]
    elif value >= HEAT_STOPS[-1][0]:
        rgb = HEAT_STOPS[-1][1]
    else:
        for (lo, c0), (hi, c1) in pairwise(HEAT_STOPS):
            if lo <= value <= hi:
                t = (value - lo) / (hi - lo)
                rgb = tuple(round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))
                break
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def ranking_chart(
    rows,
    *,
    width: float = 520,
    label_width: float = 150,
    bar_height: float = 16,
    gap: float = 5,
    font_size: float = 12,
    lines: tuple[float, float],
    title: str = "排名",
    highlight: str | None = None,
) -> Markup | None:
    """A ranked bar chart of one category: a bar per unit from 0 to its composite (points 0-100), coloured by
    grade, with the scheme's grade lines (`lines`: 较差 below the first, 良好 from the second; reports.grade_lines);
    units without data are listed as 无数据.

    `rows` are result rows in rank order (anything with `rank`, `unit_name`, `composite`, `grade`); the row
    whose `unit_code` is `highlight` is written in bold with a marker (the unit page shows its category).
    """
    rows = list(rows)
    if not rows:
        return None
    top = font_size + 6  # room for the axis labels above the bars
    value_room = font_size * 3.4
    length = width - label_width - value_room
    height = top + len(rows) * (bar_height + gap) + 2
    body = []
    for mark in lines:
        x = label_width + length * mark / 100
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 2}" y2="{height:.1f}" stroke="#7b8794" '
            f'stroke-dasharray="3,3" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{font_size}" text-anchor="middle" fill="#52606d">{mark:g}</text>'
        )
    body.append(f'<line x1="{label_width}" x2="{label_width}" y1="{top - 2}" y2="{height:.1f}" stroke="#9aa5b1"/>')
    for i, row in enumerate(rows):
        y = top + i * (bar_height + gap)
        baseline = y + bar_height / 2 + font_size * 0.36
        rank = f"{row.rank} " if row.rank is not None and row.composite is not None else ""
        name = _fit(f"{rank}{row.unit_name}", label_width - 6, font_size)
        marked = highlight is not None and getattr(row, "unit_code", None) == highlight
        if marked:
            body.append(
                f'<rect x="0" y="{y - gap / 2:.1f}" width="{width:.0f}" height="{bar_height + gap}" fill="#fff3c4"/>'
            )
        weight = ' font-weight="700"' if marked else ""
        body.append(
            f'<text x="{label_width - 6}" y="{baseline:.1f}" text-anchor="end"{weight}>'
            f"<title>{escape(row.unit_name)}</title>{escape(name)}</text>"
        )
        if row.composite is None:
            body.append(f'<text x="{label_width + 4}" y="{baseline:.1f}" fill="#616e7c">无数据</text>')
            continue
        w = max(1.0, max(0.0, min(100.0, float(row.composite))) / 100 * length)
        colour = GRADE_COLOURS.get(row.grade, NO_GRADE_COLOUR)
        body.append(
            f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}" fill="{colour}">'
            f"<title>{escape(row.unit_name)} {_fmt(row.composite)}</title></rect>"
            f'<text x="{label_width + w + 4:.1f}" y="{baseline:.1f}">{_fmt(row.composite)}</text>'
        )
    return _svg(width, height, body, title, font_size)


def heat_map(
    rows,
    leaves,
    *,
    label_width: float = 150,
    cell_width: float = 34,
    cell_height: float = 20,
    font_size: float = 11,
    header_height: float | None = None,
    title: str = "单位 × 指标得分",
) -> Markup | None:
    """A unit × indicator heat map: one row per unit, one column per weighted leaf, each cell its leaf score
    (points, whole numbers; two decimals in the tooltip) on a red (below 60) → amber → green (80 and up) scale.
    A cell whose group is under its minimum sample shows 不足 (never a number); a cell without data shows —.

    `rows` are result rows (anything with `unit_name` and `leaves` = {leaf id: {"value", "suppressed"}});
    `leaves` the scheme's leaves (anything with `id`, `name`, `is_deduction`); deduction leaves are left out
    (their points are not on the 0-100 scale).
    """
    rows = list(rows)
    leaves = [leaf for leaf in leaves if not leaf.is_deduction]
    if not rows or not leaves:
        return None
    longest = max(len(leaf.name) for leaf in leaves)
    # Column names stand at 45°, so they take about 0.72 of their length in height.
    header = header_height or min(10, longest) * font_size * 0.75 + font_size + 4
    width = label_width + len(leaves) * cell_width + min(10, longest) * font_size * 0.72
    height = header + len(rows) * cell_height + 2
    body = []
    for j, leaf in enumerate(leaves):
        x = label_width + j * cell_width + cell_width / 2
        name = _fit(leaf.name, 10 * font_size, font_size)
        body.append(
            f'<text transform="translate({x + 3:.1f},{header - 4:.1f}) rotate(-45)">'
            f"<title>{escape(leaf.name)}</title>{escape(name)}</text>"
        )
    for i, row in enumerate(rows):
        y = header + i * cell_height
        baseline = y + cell_height / 2 + font_size * 0.36
        body.append(
            f'<text x="{label_width - 6}" y="{baseline:.1f}" text-anchor="end">'
            f"<title>{escape(row.unit_name)}</title>{escape(_fit(row.unit_name, label_width - 6, font_size))}"
            f"</text>"
        )
        for j, leaf in enumerate(leaves):
            data = (row.leaves or {}).get(leaf.id) or {}
            value = data.get("value")
            x = label_width + j * cell_width
            if value is not None:
                text, tip = _fmt(value, 0), f"{leaf.name} {_fmt(value)}"
            elif data.get("suppressed"):
                text, tip = "不足", f"{leaf.name} {TOO_FEW_ZH}"
            else:
                text, tip = "—", f"{leaf.name} 无数据"
            ink = "" if value is not None else ' fill="#616e7c"'
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_width}" height="{cell_height}" '
                f'fill="{heat_colour(value)}" stroke="#ffffff" stroke-width="1">'
                f"<title>{escape(row.unit_name)} · {escape(tip)}</title></rect>"
                f'<text x="{x + cell_width / 2:.1f}" y="{baseline:.1f}" text-anchor="middle"'
                f"{ink}>{text}</text>"
            )
    return _svg(width, height, body, title, font_size)
