"""Periods (评价周期): creation and the draft → open → closed → published workflow."""


from ..extensions import db
from ..models import Period, PeriodState
from . import audit
from .period_lookup import NotFound, default_dates, get_period  # noqa: F401  (re-exported)


def get_or_create_period(name: str, actor: str = "system") -> Period:
    """The period called `name`, created as a draft over its calendar year when it is new."""
    name = str(name).strip()
    if not name:
        raise ValueError("period name is empty")
    period = db.session.execute(db.select(Period).filter_by(name=name)).scalar_one_or_none()
    if period is None:
        starts, ends = default_dates(name)
        period = Period(name=name, starts_on=starts, ends_on=ends, as_of=ends, state=PeriodState.DRAFT)
        db.session.add(period)
        db.session.flush()
        audit.record(actor, "period.create", "period", period.id, name=name)
    return period


def move_period(name: str, target: str, actor: str = "system") -> Period:
    """Move a period to `target` (open / close / publish), refusing moves the workflow does not allow."""
    period = get_period(name)
    state = {"open": PeriodState.OPEN, "close": PeriodState.CLOSED, "publish": PeriodState.PUBLISHED}.get(
        target
    ) or PeriodState(target)
    before = period.state
    if state is PeriodState.PUBLISHED:
        period.move_to(state)  # refuse a wrong move before touching results
        from .scoring import publish_result

        publish_result(period, actor)
    else:
        period.move_to(state)
    audit.record(actor, "period.move", "period", period.id, before=before.value, after=state.value)
    return period


def list_periods():
    return db.session.execute(db.select(Period).order_by(Period.name.desc())).scalars().all()
