"""Server-side SVG charts (no JavaScript, no CDN: pages and PDFs draw the same shapes)."""

from itertools import pairwise

from markupsafe import Markup, escape


def diverging_bars(items, label_width=150, half=170, bar_height=22, gap=6):
    """Horizontal bars around zero for (label, value) pairs, e.g. each leaf's contribution in points.

    Returns the geometry a template draws, or None when no item has a value.
    """
    items = [(label, value) for label, value in items if value is not None]
    if not items:
        return None
    span = max(abs(v) for _, v in items) or 1.0
    zero = label_width + half
    bars = []
    for i, (label, value) in enumerate(items):
        y = i * (bar_height + gap)
        width = abs(value) / span * half
        bars.append({
            "label": label,
            "value": value,
            "y": y,
            "x": zero if value >= 0 else zero - width,
            "w": max(width, 1),
            "h": bar_height,
            "positive": value >= 0,
            "text_x": zero + width + 4 if value >= 0 else zero - width - 4,
        })
    return {"bars": bars, "height": len(items) * (bar_height + gap), "zero": zero,
            "width": label_width + 2 * half + 60}


def score_bars(items, label_width=170, length=360, bar_height=16, gap=4, low=0.0, high=100.0):
    """Horizontal bars from `low` to each (label, value, css class) score (points 0-100)."""
    bars = []
    for i, (label, value, kind) in enumerate(items):
        if value is None:
            continue
        y = len(bars) * (bar_height + gap)
        width = max(0.0, min(1.0, (value - low) / (high - low))) * length
        bars.append({"label": label, "value": value, "kind": kind, "y": y, "w": max(width, 1),
                     "h": bar_height, "x": label_width, "text_x": label_width + width + 4})
    if not bars:
        return None
    return {"bars": bars, "height": len(bars) * (bar_height + gap), "width": label_width + length + 50,
            "x0": label_width}


def trend_chart(series, width=720, height=260):
    """Geometry of the monthly trend chart (inline SVG, drawn by the template): bars for counted ratings on
    the left axis, the good rate as a line with its 95% interval on the right axis."""
    left, right, top, bottom = 48, 56, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(series))
    max_n = max([m["n"] for m in series] + [1])
    # A round top for the count axis.
    magnitude = 10 ** (len(str(max_n)) - 1)
    top_n = next(k * magnitude for k in (1, 2, 2.5, 5, 10) if k * magnitude >= max_n)
    lows = [m["interval"][0] for m in series if m["interval"]]
    floor = max(0.0, min([0.9] + [int(lo * 20) / 20 for lo in lows]))

    def y_rate(value):
        return top + plot_h * (1 - (value - floor) / (1 - floor))

    bars, points, whiskers, labels = [], [], [], []
    for i, m in enumerate(series):
        x = left + step * i + step / 2
        bar_h = plot_h * m["n"] / top_n
        bars.append({"x": x - step * 0.3, "y": top + plot_h - bar_h, "w": step * 0.6, "h": bar_h, "n": m["n"],
                     "month": m["month"]})
        labels.append({"x": x, "text": f"{m['month'].month}月"})
        if m["rate"] is not None:
            points.append({"x": x, "y": y_rate(m["rate"]), "rate": m["rate"], "n": m["n"],
                           "month": m["month"]})
            lo, hi = m["interval"]
            whiskers.append({"x": x, "y1": y_rate(max(lo, floor)), "y2": y_rate(hi)})
    count_ticks = [{"y": top + plot_h * (1 - k / 4), "text": f"{top_n * k / 4:g}"} for k in range(5)]
    rate_values = [floor + (1 - floor) * k / 4 for k in range(5)]
    rate_ticks = [{"y": y_rate(v), "text": f"{100 * v:.0f}%"} for v in rate_values]
    line = " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in points)
    return {
        "width": width, "height": height, "left": left, "right": width - right, "top": top,
        "bottom": top + plot_h, "bars": bars, "points": points, "whiskers": whiskers, "labels": labels,
        "count_ticks": count_ticks, "rate_ticks": rate_ticks, "line": line,
        "empty": not any(m["n"] for m in series),
    }


# ---------------------------------------------------------------- finished SVG charts (console and PDF)
#
# The functions below return a whole <svg> element as markupsafe.Markup, so the console page and the printed
# report embed the very same drawing (`{{ chart }}`): every style is an attribute (WeasyPrint and browsers agree
# on those), a viewBox lets the chart shrink to a phone's width, and every number is written by the engine's
# rounding (`format_half_up`). Each returns None when there is nothing to draw.

GRADE_COLOURS = {"excellent": "#2f7d32", "good": "#3b6fd8", "fair": "#d08c00", "poor": "#b3261e"}
NO_GRADE_COLOUR = "#9aa5b1"
#: Background of a heat-map cell by score (points 0-100): red below 60, amber to 80, green above.
HEAT_STOPS = ((40.0, (244, 187, 181)), (60.0, (253, 233, 182)), (80.0, (205, 232, 196)), (100.0, (120, 190, 125)))
FONT = '"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif'


def _fmt(value, digits=2, sign=False):
    from scoring.rounding import format_half_up

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
        f'font-family=\'{FONT}\' font-size="{font_size:g}" fill="#1f2933">'
        + "".join(body) + "</svg>"
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


def ranking_chart(rows, *, width: float = 520, label_width: float = 150, bar_height: float = 16,
                  gap: float = 5, font_size: float = 12, lines=(60, 80), title: str = "排名") -> Markup | None:
    """A ranked bar chart of one category: a bar per unit from 0 to its composite (points 0-100), coloured by
    grade, with the 60 (较差 below) and 80 (良好 from) lines; units without data are listed as 无数据.

    `rows` are result rows in rank order (anything with `rank`, `unit_name`, `composite`, `grade`).
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
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 2}" y2="{height:.1f}" stroke="#7b8794" '
                    f'stroke-dasharray="3,3" stroke-width="1"/>'
                    f'<text x="{x:.1f}" y="{font_size}" text-anchor="middle" fill="#52606d">{mark}</text>')
    body.append(f'<line x1="{label_width}" x2="{label_width}" y1="{top - 2}" y2="{height:.1f}" stroke="#9aa5b1"/>')
    for i, row in enumerate(rows):
        y = top + i * (bar_height + gap)
        baseline = y + bar_height / 2 + font_size * 0.36
        rank = f"{row.rank} " if row.rank is not None and row.composite is not None else ""
        name = _fit(f"{rank}{row.unit_name}", label_width - 6, font_size)
        body.append(f'<text x="{label_width - 6}" y="{baseline:.1f}" text-anchor="end">'
                    f'<title>{escape(row.unit_name)}</title>{escape(name)}</text>')
        if row.composite is None:
            body.append(f'<text x="{label_width + 4}" y="{baseline:.1f}" fill="#616e7c">无数据</text>')
            continue
        w = max(1.0, max(0.0, min(100.0, float(row.composite))) / 100 * length)
        colour = GRADE_COLOURS.get(row.grade, NO_GRADE_COLOUR)
        body.append(f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}" fill="{colour}">'
                    f'<title>{escape(row.unit_name)} {_fmt(row.composite)}</title></rect>'
                    f'<text x="{label_width + w + 4:.1f}" y="{baseline:.1f}">{_fmt(row.composite)}</text>')
    return _svg(width, height, body, title, font_size)


def heat_map(rows, leaves, *, label_width: float = 150, cell_width: float = 34, cell_height: float = 20,
             font_size: float = 11, header_height: float | None = None,
             title: str = "单位 × 指标得分") -> Markup | None:
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
        body.append(f'<text transform="translate({x + 3:.1f},{header - 4:.1f}) rotate(-45)">'
                    f'<title>{escape(leaf.name)}</title>{escape(name)}</text>')
    for i, row in enumerate(rows):
        y = header + i * cell_height
        baseline = y + cell_height / 2 + font_size * 0.36
        body.append(f'<text x="{label_width - 6}" y="{baseline:.1f}" text-anchor="end">'
                    f'<title>{escape(row.unit_name)}</title>{escape(_fit(row.unit_name, label_width - 6, font_size))}'
                    f'</text>')
        for j, leaf in enumerate(leaves):
            data = (row.leaves or {}).get(leaf.id) or {}
            value = data.get("value")
            x = label_width + j * cell_width
            if value is not None:
                text, tip = _fmt(value, 0), f"{leaf.name} {_fmt(value)}"
            elif data.get("suppressed"):
                text, tip = "不足", f"{leaf.name} 样本不足"
            else:
                text, tip = "—", f"{leaf.name} 无数据"
            ink = "" if value is not None else ' fill="#616e7c"'
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_width}" height="{cell_height}" '
                        f'fill="{heat_colour(value)}" stroke="#ffffff" stroke-width="1">'
                        f'<title>{escape(row.unit_name)} · {escape(tip)}</title></rect>'
                        f'<text x="{x + cell_width / 2:.1f}" y="{baseline:.1f}" text-anchor="middle"'
                        f'{ink}>{text}</text>')
    return _svg(width, height, body, title, font_size)
