"""Jinja filters and globals shared by the pages and the printed report.

Numbers are rounded by the engine's rule (四舍五入, `scoring.rounding`), so a page, the PDF, the xlsx and the CSV
never disagree on a digit; times go through `timefmt` (China time); labels come from `labels`.
"""

from scoring.rounding import round_half_up

from . import labels
from .timefmt import format_cst


def _number(value):
    """A float, or None for no value (None, NaN, text that is not a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def decimals(value, digits: int = 2, sign: bool = False, empty: str = "—") -> str:
    """``value`` with ``digits`` decimals, rounded 四舍五入 as the engine ranks (54.125 -> 54.13)."""
    number = _number(value)
    if number is None:
        return empty if value is None or _is_nan(value) else str(value)
    rounded = round_half_up(number, digits) + 0.0  # + 0.0: no "-0.00"
    return f"{rounded:+.{digits}f}" if sign else f"{rounded:.{digits}f}"


def _is_nan(value) -> bool:
    try:
        return value != value
    except Exception:  # noqa: BLE001 - anything odd is simply not NaN
        return False


def fmt2(value):
    """Two decimals, as every displayed score is written; a dash when there is no value."""
    return decimals(value, 2)


def signed2(value):
    """Two decimals with a sign (a contribution: +1.25 / -0.50)."""
    return decimals(value, 2, sign=True)


def pct(value, digits=1):
    """A share 0-1 as a percentage with ``digits`` decimals (四舍五入); a dash when there is no value."""
    number = _number(value)
    if number is None:
        return "—"
    return f"{decimals(100 * number, digits)}%"


def cst(moment, fmt="%Y-%m-%d %H:%M"):
    """A stored (UTC) moment in China time, for display."""
    return format_cst(moment, fmt)


def register_template_helpers(app):
    app.jinja_env.filters["fmt2"] = fmt2
    app.jinja_env.filters["signed2"] = signed2
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.filters["cst"] = cst
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["label"] = labels.label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
