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
        bars.append(
            {
                "label": label,
                "value": value,
                "y": y,
                "x": zero if value >= 0 else zero - width,
                "w": max(width, 1),
                "h": bar_height,
                "positive": value >= 0,
                "text_x": zero + width + 4 if value >= 0 else zero - width - 4,
            }
        )
    return {"bars": bars, "height": len(items) * (bar_height + gap), "zero": zero, "width": label_width + 2 * half + 60}


def score_bars(items, label_width=170, length=360, bar_height=16, gap=4, low=0.0, high=100.0):
    """Horizontal bars from `low` to each (label, value, css class) score (points 0-100)."""
    bars = []
    for _i, (label, value, kind) in enumerate(items):
        if value is None:
            continue
        y = len(bars) * (bar_height + gap)
        width = max(0.0, min(1.0, (value - low) / (high - low))) * length
        bars.append(
            {
                "label": label,
                "value": value,
                "kind": kind,
                "y": y,
                "w": max(width, 1),
                "h": bar_height,
                "x": label_width,
                "text_x": label_width + width + 4,
            }
        )
    if not bars:
        return None
    return {
        "bars": bars,
        "height": len(bars) * (bar_height + gap),
        "width": label_width + length + 50,
        "x0": label_width,
    }


def trend_chart(series, width=500, height=250):
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
        bars.append(
            {
                "x": x - step * 0.3,
                "y": top + plot_h - bar_h,
                "w": step * 0.6,
                "h": bar_h,
                "n": m["n"],
                "month": m["month"],
            }
        )
        labels.append({"x": x, "text": f"{m['month'].month}月"})
        if m["rate"] is not None:
            points.append({"x": x, "y": y_rate(m["rate"]), "rate": m["rate"], "n": m["n"], "month": m["month"]})
            lo, hi = m["interval"]
            whiskers.append({"x": x, "y1": y_rate(max(lo, floor)), "y2": y_rate(hi)})
    count_ticks = [{"y": top + plot_h * (1 - k / 4), "text": f"{top_n * k / 4:g}"} for k in range(5)]
    rate_values = [floor + (1 - floor) * k / 4 for k in range(5)]
    rate_ticks = [{"y": y_rate(v), "text": f"{100 * v:.0f}%"} for v in rate_values]
    line = " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in points)
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "bars": bars,
        "points": points,
        "whiskers": whiskers,
        "labels": labels,
        "count_ticks": count_ticks,
        "rate_ticks": rate_ticks,
        "line": line,
        "empty": not any(m["n"] for m in series),
    }


#: Check point statuses stacked in the completion chart, bottom up, with their colours (waived items are left out).
COMPLETION_SEGMENTS = (("on_time", "#2f7d32"), ("late", "#e0a100"), ("not_done", "#b3261e"), ("pending", "#bcccdc"))


def completion_chart(months, width=440, height=230):
    """Geometry of the check-point completion chart: per month of the due date, one bar of the items due that
    month stacked by status (on time, late, not done, pending), with the completed share above it.

    `months` is [(first day of month, tally)] where tally has `counts` {CheckPointStatus: n}, `done`, `counted`
    and `rate` (services/checkpoints.Tally). Returns None when no item is due in any month. The count axis
    tops at a multiple of 4, so its five ticks are whole numbers; the size suits a phone once scaled down.
    """
    left, right, top, bottom = 26, 4, 24, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(n for s, n in t.counts.items() if s.value != "waived") for _, t in months]
    if not months or not any(totals):
        return None
    top_n = -(-max(totals) // 4) * 4
    step = plot_w / len(months)
    bars, labels, rates = [], [], []
    for i, ((month, tally), total) in enumerate(zip(months, totals, strict=True)):
        x = left + step * i + step * 0.15
        y = top + plot_h
        counts = {s.value: n for s, n in tally.counts.items()}
        for key, colour in COMPLETION_SEGMENTS:
            n = counts.get(key, 0)
            if not n:
                continue
            h = plot_h * n / top_n
            y -= h
            bars.append(
                {"x": x, "y": y, "w": step * 0.7, "h": h, "fill": colour, "n": n, "status": key, "month": month}
            )
        labels.append({"x": left + step * i + step / 2, "text": f"{month.month}月"})
        if total:
            rates.append(
                {
                    "x": left + step * i + step / 2,
                    "y": y - 5,
                    "text": _fmt(100 * tally.rate, 0) + "%" if tally.rate is not None else "",
                }
            )
    ticks = [{"y": top + plot_h * (1 - k / 4), "text": str(top_n * k // 4)} for k in range(5)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": top + plot_h,
        "bars": bars,
        "labels": labels,
        "rates": rates,
        "ticks": ticks,
        "segments": COMPLETION_SEGMENTS,
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
    lines=(60, 80),
    title: str = "排名",
    highlight: str | None = None,
) -> Markup | None:
    """A ranked bar chart of one category: a bar per unit from 0 to its composite (points 0-100), coloured by
    grade, with the 60 (较差 below) and 80 (良好 from) lines; units without data are listed as 无数据.

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
            f'<text x="{x:.1f}" y="{font_size}" text-anchor="middle" fill="#52606d">{mark}</text>'
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
                text, tip = "不足", f"{leaf.name} 样本不足"
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


# ---------------------------------------------------------------- console-only charts (results and unit pages)


def distribution_chart(
    values,
    *,
    width: float = 520,
    height: float = 170,
    step: float = 5,
    font_size: float = 12,
    lines=(60, 80),
    title: str = "综合得分分布",
) -> Markup | None:
    """How the composites (points 0-100) spread: a histogram of `step`-point bins with the 60 (较差 below) and
    80 (良好 from) lines, bars red / amber / green by zone, each bar's count on top."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    low = min(lines[0] - step * 2, step * int(min(values) // step))
    bins = []
    edge = low
    while edge < 100:
        upper = edge + step
        last = upper >= 100
        count = sum(1 for v in values if edge <= v < upper or (last and v == 100))
        bins.append((edge, upper, count))
        edge = upper
    left, right, top, bottom = 30, 10, font_size + 8, font_size + 10
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max(c for *_, c in bins) or 1

    def x_of(v):
        return left + (v - low) / (100 - low) * plot_w

    body = [f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa5b1"/>']
    for lo, hi, count in bins:
        colour = "#e7a39d" if lo < lines[0] else ("#f2cf7a" if lo < lines[1] else "#9ccf9f")
        h = plot_h * count / most
        x0, x1 = x_of(lo) + 1, x_of(hi) - 1
        body.append(
            f'<rect x="{x0:.1f}" y="{top + plot_h - h:.1f}" width="{x1 - x0:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{lo:g}–{hi:g} 分：{count} 个单位</title></rect>'
        )
        if count:
            body.append(
                f'<text x="{(x0 + x1) / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">{count}</text>'
            )
    ticks = sorted({low, *lines, 100} | {t for t in range(int(low), 101, 10)})
    for t in ticks:
        if t < low:
            continue
        body.append(f'<text x="{x_of(t):.1f}" y="{height - 2}" text-anchor="middle" fill="#52606d">{t:g}</text>')
    for mark in lines:
        x = x_of(mark)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{top + plot_h}" stroke="#1f2933" '
            f'stroke-dasharray="4,3"/>'
        )
    body.append(
        f'<text x="{x_of(lines[0]) - 3:.1f}" y="{font_size}" text-anchor="end" fill="#b3261e">'
        f"低于{lines[0]:g}：较差</text>"
        f'<text x="{x_of(lines[1]) + 3:.1f}" y="{font_size}" fill="#2f7d32">{lines[1]:g}以上：可评良好</text>'
    )
    return _svg(width, height, body, title, font_size)


def rank_intervals(
    rows,
    *,
    width: float = 520,
    label_width: float = 150,
    row_height: float = 20,
    font_size: float = 12,
    title: str = "排名区间",
) -> Markup | None:
    """The sensitivity analysis as rank intervals of one category: per unit a line from its 5th to its 95th
    percentile rank over the weight draws, a dot at the median and a ring at the rank it got; red when its
    grade holds in fewer draws than the review threshold (`review_flag`).

    `rows` are result rows in rank order with `detail` = {rank_p05, rank_p95, rank_median}.
    """
    rows = [r for r in rows if r.detail and r.detail.get("rank_p05") is not None and r.rank is not None]
    if not rows:
        return None
    n = max(max(int(r.detail["rank_p95"]) for r in rows), max(r.rank for r in rows), 2)
    top = font_size + 8
    plot_w = width - label_width - 20
    height = top + len(rows) * row_height + 4

    def x_of(rank):
        return label_width + 10 + (rank - 1) / (n - 1) * plot_w

    body = []
    for k in sorted({1, n, *range(5, n, 5)}):
        body.append(
            f'<line x1="{x_of(k):.1f}" x2="{x_of(k):.1f}" y1="{top - 3}" y2="{height:.1f}" '
            f'stroke="#e4e7eb"/>'
            f'<text x="{x_of(k):.1f}" y="{font_size}" text-anchor="middle" fill="#52606d">{k}</text>'
        )
    for i, row in enumerate(rows):
        d = row.detail
        y = top + i * row_height + row_height / 2
        colour = "#b3261e" if row.review_flag else "#3b6fd8"
        tip = (
            f"{row.unit_name}：名次 {row.rank}，中位数 {_fmt(d.get('rank_median'))}，"
            f"90% 区间 {int(d['rank_p05'])}–{int(d['rank_p95'])}"
        )
        body.append(
            f'<text x="{label_width - 6}" y="{y + font_size * 0.36:.1f}" text-anchor="end">'
            f"<title>{escape(row.unit_name)}</title>"
            f"{escape(_fit(f'{row.rank} {row.unit_name}', label_width - 6, font_size))}</text>"
            f"<g><title>{escape(tip)}</title>"
            f'<line x1="{x_of(d["rank_p05"]):.1f}" x2="{x_of(d["rank_p95"]):.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="4" stroke-linecap="round"/>'
            f'<circle cx="{x_of(d.get("rank_median") or row.rank):.1f}" cy="{y:.1f}" r="3.5" '
            f'fill="{colour}"/>'
            f'<circle cx="{x_of(row.rank):.1f}" cy="{y:.1f}" r="6" fill="none" stroke="#1f2933"/></g>'
        )
    return _svg(width, height, body, title, font_size)


def share_bars(
    items,
    *,
    width: float = 520,
    label_width: float = 110,
    bar_height: float = 16,
    gap: float = 6,
    font_size: float = 12,
    mark: float | None = None,
    title: str = "回收率",
) -> Markup | None:
    """Bars of shares 0-1 (e.g. response rates), written as percentages with one decimal (四舍五入).

    `items` are (label, share or None, note) — the note (e.g. "120/150") is written after the percentage; an
    optional `mark` draws a dashed reference line (e.g. 0.8).
    """
    items = list(items)
    if not items:
        return None
    value_room = font_size * 8
    length = width - label_width - value_room
    top = 4
    height = top + len(items) * (bar_height + gap)
    body = [f'<line x1="{label_width}" x2="{label_width}" y1="0" y2="{height:.1f}" stroke="#9aa5b1"/>']
    for i, (label, share, note) in enumerate(items):
        y = top + i * (bar_height + gap)
        baseline = y + bar_height / 2 + font_size * 0.36
        body.append(
            f'<text x="{label_width - 6}" y="{baseline:.1f}" text-anchor="end">'
            f"{escape(_fit(label, label_width - 6, font_size))}</text>"
        )
        if share is None:
            body.append(f'<text x="{label_width + 4}" y="{baseline:.1f}" fill="#616e7c">—</text>')
            continue
        w = max(1.0, max(0.0, min(1.0, float(share))) * length)
        colour = "#3b6fd8" if mark is None or share >= mark else "#d08c00"
        text = f"{_fmt(100 * float(share), 1)}%" + (f"（{note}）" if note else "")
        body.append(
            f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}" fill="{colour}"/>'
            f'<text x="{label_width + w + 4:.1f}" y="{baseline:.1f}">{escape(text)}</text>'
        )
    if mark is not None:
        x = label_width + length * mark
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height:.1f}" stroke="#1f2933" stroke-dasharray="4,3"/>'
        )
    return _svg(width, height, body, title, font_size)


def compare_chart(
    items,
    *,
    width: float = 560,
    label_width: float = 130,
    row_height: float = 24,
    font_size: float = 12,
    title: str = "与本组比较",
) -> Markup | None:
    """A unit against its category, one row per leaf (points 0-100): a grey band from the category's lowest
    to highest score, a tick at the category mean, and the unit's own score as a dot with its value.

    `items` are (leaf name, unit value or None, category mean, category min, category max); a leaf the unit
    has no value for shows 样本不足 when `suppressed` — pass the text to show as the value instead of None.
    """
    items = list(items)
    if not items:
        return None
    top = font_size + 8
    value_room = font_size * 4.5
    plot_w = width - label_width - value_room
    height = top + len(items) * row_height + 4

    def x_of(v):
        return label_width + max(0.0, min(100.0, float(v))) / 100 * plot_w

    body = []
    for k in (0, 20, 40, 60, 80, 100):
        body.append(
            f'<line x1="{x_of(k):.1f}" x2="{x_of(k):.1f}" y1="{top - 3}" y2="{height:.1f}" '
            f'stroke="#e4e7eb"/>'
            f'<text x="{x_of(k):.1f}" y="{font_size}" text-anchor="middle" fill="#52606d">{k}</text>'
        )
    for i, (label, value, mean, low, high) in enumerate(items):
        y = top + i * row_height + row_height / 2
        body.append(
            f'<text x="{label_width - 6}" y="{y + font_size * 0.36:.1f}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_fit(label, label_width - 6, font_size))}</text>"
        )
        if low is not None and high is not None:
            body.append(
                f'<rect x="{x_of(low):.1f}" y="{y - 5:.1f}" width="{max(1.0, x_of(high) - x_of(low)):.1f}" '
                f'height="10" fill="#d9e2ec"><title>本组最低 {_fmt(low)}，最高 {_fmt(high)}</title></rect>'
            )
        if mean is not None:
            body.append(
                f'<line x1="{x_of(mean):.1f}" x2="{x_of(mean):.1f}" y1="{y - 8:.1f}" y2="{y + 8:.1f}" '
                f'stroke="#52606d" stroke-width="2"><title>本组平均 {_fmt(mean)}</title></line>'
            )
        if isinstance(value, str):
            body.append(
                f'<text x="{width - 2}" y="{y + font_size * 0.36:.1f}" text-anchor="end" '
                f'fill="#616e7c">{escape(value)}</text>'
            )
        elif value is not None:
            colour = "#2f7d32" if mean is None or value >= mean else "#b3261e"
            body.append(
                f'<circle cx="{x_of(value):.1f}" cy="{y:.1f}" r="5.5" fill="{colour}">'
                f"<title>{escape(label)} {_fmt(value)}</title></circle>"
                f'<text x="{width - 2}" y="{y + font_size * 0.36:.1f}" text-anchor="end">{_fmt(value)}'
                f"</text>"
            )
        else:
            body.append(
                f'<text x="{width - 2}" y="{y + font_size * 0.36:.1f}" text-anchor="end" fill="#616e7c">—</text>'
            )
    return _svg(width, height, body, title, font_size)
