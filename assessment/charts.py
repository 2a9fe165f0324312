"""Server-side SVG chart geometry (no JavaScript, no CDN: pages and PDFs draw the same shapes)."""


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
