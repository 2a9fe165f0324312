"""What many console pages need, written once: the period a page shows and the signed-in user's name and unit.
(A refused form's answer is transactions.refused.)"""

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Period, Role, Unit
from ..services.period_lookup import NotFound, get_period
from ..services.ratings.stats import default_period


def period_or_404(name: str) -> Period:
    """The period called `name` (from the URL), else 404."""
    try:
        return get_period(name)
    except NotFound:
        abort(404)


def period_arg(required: bool = False) -> Period | None:
    """The period named in `?period=` or a posted form's `period` field (404 when no such period), else the
    default one (the open period, else the newest); None when there is no period at all, or 404 if the page
    cannot do without one (`required`)."""
    name = request.values.get("period")
    period = period_or_404(name) if name else default_period()
    if period is None and required:
        abort(404)
    return period


def periods() -> list[Period]:
    """Every period, newest first, for a page's period switcher."""
    return list(db.session.scalars(select(Period).order_by(Period.starts_on.desc(), Period.id.desc())))


def actor_name() -> str:
    """How the audit log and stored rows name the signed-in user ("liaison:<user>" for a unit liaison)."""
    prefix = "liaison:" if current_user.role is Role.UNIT_LIAISON else ""
    return f"{prefix}{current_user.username}"


def own_unit() -> Unit | None:
    """The signed-in unit liaison's own unit (403 for a liaison without one); None for an office account."""
    if current_user.role is not Role.UNIT_LIAISON:
        return None
    unit = db.session.get(Unit, current_user.unit_id) if current_user.unit_id else None
    if unit is None:
        abort(403)
    return unit
