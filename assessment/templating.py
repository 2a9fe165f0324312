"""Jinja filters and globals shared by the pages and the printed report.

Numbers are rounded by the engine's rule (四舍五入, `scoring.rounding`), so a page, the PDF, the xlsx and the CSV
never disagree on a digit; times go through `timefmt` (China time); labels come from `labels`.
"""

from scoring.rounding import format_half_up, format_percent, format_setting_percent

from . import labels
from .models.checkpoints import is_overdue, scored_status
from .timefmt import format_cst, zh_date


def decimals(value, digits: int = 2, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, rounded 四舍五入 as the engine ranks (54.125 -> 54.13); a dash if none."""
    return format_half_up(value, digits, sign=sign, empty="—")


def fmt2(value):
    """Two decimals, as every displayed score is written; a dash when there is no value."""
    return decimals(value, 2)


def signed2(value):
    """Two decimals with a sign (a contribution: +1.25 / -0.50)."""
    return decimals(value, 2, sign=True)


def pct(value, digits=1):
    """A share 0-1 as a percentage with ``digits`` decimals (四舍五入); a dash when there is no value."""
    return format_percent(value, digits, empty="—")


def ratio(pair):
    """(numerator, denominator) as 'x / y（z%）', the share by `pct` (四舍五入); a dash for a share of nothing."""
    num, den = pair
    return f"{num} / {den}（{pct(num / den) if den else '—'}）"


def cst(moment, fmt="%Y-%m-%d %H:%M"):
    """A stored (UTC) moment in China time, for display."""
    return format_cst(moment, fmt)


def kilobytes(size) -> str:
    """A file size in bytes as KB with one decimal (四舍五入); a dash when there is none."""
    return decimals(None if size is None else size / 1024, 1)


def setting_pct(share) -> str:
    """A share the scheme sets, as the percentage it is (scoring.rounding.format_setting_percent)."""
    return format_setting_percent(share)


#: The badge colour classes of app.css, where a badge's colour follows a status: green done, grey failed or
#: not done, blue still open.
SUGGESTION_BADGES = {"valid": "published", "invalid": "closed", "pending": "open"}
CHECKPOINT_BADGES = {"on_time": "published", "late": "published", "not_done": "closed"}


def suggestion_badge(status) -> str:
    """The badge class of a suggestion's status (SuggestionStatus): valid green, invalid grey, pending blue."""
    return SUGGESTION_BADGES[status.value]


def state_badge(state) -> str:
    """The badge class of a ledger problem's or a bad-rating case's state (ProblemState, CaseState): closed
    green, any other state blue (still being worked on)."""
    return "published" if state.value == "closed" else "open"


def checkpoint_badge(point, today) -> str:
    """The badge class of a check point on `today`, by what the engine counts (models.scored_status): done on
    time or late green, not done (including pending past its due date) grey, still pending plain."""
    return CHECKPOINT_BADGES.get(scored_status(point.status, point.due, today), "")


def checkpoint_overdue(point, today) -> bool:
    """Is a check point overdue on `today` (models.checkpoints.is_overdue): pending after its due date."""
    return is_overdue(point.status, point.due, today)


def rank_text(row) -> str:
    """A result row's rank as shown (labels.rank_text: 无数据 for a unit without data)."""
    return str(labels.rank_text(row))


def register_template_helpers(app):
    from .office.auth import may_open, navigation  # the console's roles; imported late: office imports services
    from .services.ratings.cases import is_overdue as case_is_overdue

    app.jinja_env.filters["decimals"] = decimals
    app.jinja_env.filters["kilobytes"] = kilobytes
    app.jinja_env.filters["suggestion_badge"] = suggestion_badge
    app.jinja_env.filters["state_badge"] = state_badge
    app.jinja_env.filters["checkpoint_overdue"] = checkpoint_overdue
    app.jinja_env.filters["setting_pct"] = setting_pct
    app.jinja_env.filters["checkpoint_badge"] = checkpoint_badge
    app.jinja_env.filters["fmt2"] = fmt2
    app.jinja_env.filters["signed2"] = signed2
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.filters["ratio"] = ratio
    app.jinja_env.filters["cst"] = cst
    app.jinja_env.filters["zh_date"] = zh_date
    app.jinja_env.filters["rank_text"] = rank_text
    app.jinja_env.filters["grade_text"] = labels.grade_text
    app.jinja_env.filters["action_text"] = labels.action_text
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["label"] = labels.label
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.globals["may_open"] = may_open
    app.jinja_env.globals["case_is_overdue"] = case_is_overdue
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
