"""The unit liaison's area (本单位): its own unit only — check points, problems pushed to it, bad-rating cases, and,
once the period is published, its own result page and its own report page as PDF."""

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from ..downloads import attachment
from ..extensions import db
from ..models import Period, PeriodState, ResultRow, Role, Unit
from ..services import checkpoints as checkpoint_service
from ..services import exports, reports
from ..services.ratings import cases as case_service
from ..services.scoring import published_result
from ..services.workdays import china_today
from . import bp
from .auth import section_required
from .common import period_arg
from .common import periods as all_periods


def _own_unit() -> Unit | None:
    """The signed-in liaison's unit; None for an office account (an administrator opening the page)."""
    if current_user.role is not Role.UNIT_LIAISON or not current_user.unit_id:
        return None
    return db.session.get(Unit, current_user.unit_id)


def _published_row(period: Period | None, unit: Unit):
    """(result, the unit's row) of the period's published result; (None, None) before publishing."""
    if period is None or period.state is not PeriodState.PUBLISHED:
        return None, None
    result = published_result(period)
    if result is None:
        return None, None
    row = db.session.execute(select(ResultRow).filter_by(result_id=result.id, unit_id=unit.id)).scalar_one_or_none()
    return (result, row) if row is not None else (None, None)


def _pushed_problems(unit: Unit, period: Period | None):
    """The problems pushed to the unit (the ledger's service; never another unit's)."""
    from ..services import ledger_lists

    return ledger_lists.unit_problems(unit.id, period)


@bp.route("/unit")
@section_required("liaison")
def liaison_home():
    unit = _own_unit()
    if unit is None:
        return render_template("office/liaison/home.html", unit=None)
    period = period_arg()
    periods = all_periods()
    done = checkpoint_service.completion(period, unit.id) if period else None
    points = checkpoint_service.list_check_points(period, unit.id) if period else []
    result, row = _published_row(period, unit)
    return render_template(
        "office/liaison/home.html",
        unit=unit,
        period=period,
        periods=periods,
        done=done,
        points=points,
        problems=_pushed_problems(unit, period),
        rates=case_service.case_rates(period.id if period else None, unit.id),
        result=result,
        row=row,
        today=china_today(),
    )


def _own_published_row():
    unit = _own_unit()
    if unit is None:
        abort(404)
    period = period_arg()
    result, row = _published_row(period, unit)
    if row is None:
        abort(404)
    return period, result, row


@bp.route("/unit/result")
@section_required("liaison")
def liaison_result():
    period, result, row = _own_published_row()
    return render_template("office/liaison/result.html", period=period, result=result, **reports.unit_page(result, row))


@bp.route("/unit/report.pdf")
@section_required("liaison")
def liaison_report():
    """The unit's own pages of the printed report: the same document the office sends the unit."""
    period, result, row = _own_published_row()
    content = exports.build_unit_pdf(result, row.unit_code)
    return attachment(content, f"report_{period.name}_{row.unit_code}.pdf", "application/pdf")
