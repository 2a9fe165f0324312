"""Rounding as the office does it: 四舍五入 (half away from zero) on the decimal value.

scoring.md says "round(x, 2)" without a tie rule; an establishment office rounds half up (四舍五入), so the
engine does too. Binary floating point cannot hold most decimals (2.175 is 2.17499999…), so values are first
snapped to 1e-9 — far below any displayed digit — which makes the rounding agree with exact arithmetic.
"""

from __future__ import annotations

import numpy as np

#: Digits kept when snapping away float noise (sums and means of 0-100 points carry ~1e-13 of it).
SNAP_DIGITS = 9


def snap(x):
    """Remove float noise: 59.99999999999999 -> 60.0, so thresholds (< 60, >= 80) compare as exact values."""
    return np.round(x, SNAP_DIGITS)


def round_half_up(x, digits: int = 2):
    """round(x, digits) with ties away from zero (四舍五入), exact on decimal inputs: 2.175 -> 2.18."""
    arr = np.asarray(x, dtype=float)
    scale = 10.0**digits
    scaled = np.round(np.abs(arr) * scale, SNAP_DIGITS - digits)
    out = np.sign(arr) * np.floor(scaled + 0.5) / scale
    return out if isinstance(x, np.ndarray) or np.ndim(x) else float(out)


def round2(value) -> float | None:
    """A score as people read it and the exports store it: 四舍五入 to two decimals; None stays None."""
    return None if value is None else round_half_up(float(value), 2) + 0.0


def format_half_up(value, digits: int = 2, sign: bool = False, empty: str = "") -> str:
    """A number written with ``digits`` decimals after 四舍五入 (54.125 -> "54.13"): the one way every page,
    report, export and command writes a score. ``empty`` for None / NaN / infinity; other text is kept."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return empty
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return empty
    rounded = round_half_up(number, digits) + 0.0  # + 0.0: no "-0.00"
    return f"{rounded:+.{digits}f}" if sign else f"{rounded:.{digits}f}"


def format_percent(share, digits: int = 1, empty: str = "", trim: bool = False) -> str:
    """A share (0-1) as a percentage with ``digits`` decimals after 四舍五入 (0.625 -> "63%" with 0 digits);
    ``trim`` drops trailing zeros, for a setting shown as set (0.125 -> "12.5%", 0.2 -> "20%"). ``empty`` for
    None / NaN / infinity; text is kept."""
    if isinstance(share, str):
        return share
    if share is None or isinstance(share, bool) or not np.isfinite(float(share)):
        return empty
    text = format_half_up(100 * float(share), digits)
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def format_setting_percent(share) -> str:
    """A share a scheme sets (0.15, 0.125) as the percentage it is, up to two decimals (四舍五入) and without
    trailing zeros: "15%", "12.5%"."""
    return format_percent(share, 2, trim=True)
