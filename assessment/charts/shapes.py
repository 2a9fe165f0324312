"""Chart geometry for templates: the page draws the shapes these functions compute (no JavaScript)."""

from scoring.rounding import format_percent


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
    rate_ticks = [{"y": y_rate(v), "text": format_percent(v, 0)} for v in rate_values]
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
                    "text": format_percent(tally.rate, 0),
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
