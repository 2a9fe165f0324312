"""Console-only finished SVG charts of the results and unit pages (distribution, rank intervals, shares,
a unit against its category); they draw with the shared helpers of `svg`."""

from markupsafe import Markup, escape

from .svg import _fit, _fmt, _svg


def distribution_chart(
    values,
    *,
    width: float = 520,
    height: float = 170,
    step: float = 5,
    font_size: float = 12,
    lines: tuple[float, float],
    title: str = "综合得分分布",
) -> Markup | None:
    """How the composites (points 0-100) spread: a histogram of `step`-point bins with the scheme's grade lines
    (`lines`: 较差 below the first, 良好 from the second), bars red / amber / green by zone, each bar's count on
    top."""
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
