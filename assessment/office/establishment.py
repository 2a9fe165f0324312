"""Console pages for establishment data (实名制): the city's figures and warnings, a unit's figures with their
history, and the vacancy pool (零空编) with the confirmation of published reductions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Period, PeriodState, Unit
from ..models.establishment import FIGURES
from ..services import establishment as service
from ..transactions import refused
from . import bp
from .auth import may_open, section_required


def _unit_or_404(code) -> Unit:
    unit = db.session.execute(select(Unit).filter_by(code=code)).scalar_one_or_none()
    if unit is None:
        abort(404)
    return unit


@bp.route("/establishment")
@section_required("establishment")
def establishment():
    units = db.session.execute(select(Unit).filter_by(active=True).order_by(Unit.category, Unit.code)).scalars().all()
    only = request.args.get("warning")
    if only in ("over_establishment", "over_leader_posts"):
        units = [u for u in units if getattr(u, only)]
    return render_template(
        "office/establishment/index.html",
        units=units,
        totals=service.city_totals(),
        only=only,
        warnings=service.warnings,
    )


@bp.route("/establishment/units/<code>", methods=["GET", "POST"])
@section_required("establishment", post="establishment_write")
def establishment_unit(code):
    unit = _unit_or_404(code)
    can_write = may_open(current_user, "establishment_write")
    error = None
    values = service.figures(unit)
    if request.method == "POST":  # section_required has refused a POST from anyone but a writer
        values = {name: request.form.get(name, "") for name in FIGURES}
        try:
            change = service.update_figures(unit, values, request.form.get("note"), current_user.username)
        except service.EstablishmentError as exc:
            error = exc.message_zh  # answered 400: the commit point rolls back
        else:
            flash("编制数据已更新，修改记录已保存。" if change else "数据没有变化。", "success" if change else "info")
            return redirect(url_for("office.establishment_unit", code=unit.code))
    return render_template(
        "office/establishment/unit.html",
        unit=unit,
        values=values,
        error=error,
        can_write=can_write,
        history=service.history(unit),
        warnings=service.warnings(unit),
        figures=FIGURES,
    ), 200 if error is None else 400


@bp.route("/establishment/pool")
@section_required("establishment")
def vacancy_pool():
    periods = (
        db.session.execute(select(Period).filter_by(state=PeriodState.PUBLISHED).order_by(Period.starts_on.desc()))
        .scalars()
        .all()
    )
    units = db.session.execute(select(Unit).filter_by(active=True).order_by(Unit.code)).scalars().all()
    return render_template(
        "office/establishment/pool.html",
        balance=service.pool_balance(),
        entries=service.pool_entries(),
        reductions=[r for p in periods for r in service.reductions(p)],
        units=units,
        can_write=may_open(current_user, "establishment_write"),
        values=request.args,
    )


@bp.route("/establishment/pool/confirm", methods=["POST"])
@section_required("establishment_write")
def vacancy_confirm():
    period = db.session.execute(select(Period).filter_by(name=request.form.get("period", ""))).scalar_one_or_none()
    if period is None:
        abort(404)
    try:
        entry = service.confirm_reduction(
            period, request.form.get("unit", ""), current_user.username, request.form.get("note")
        )
    except service.EstablishmentError as exc:
        return refused(exc, url_for("office.vacancy_pool"))
    flash(
        f"已确认核减 {entry.unit.name} 编制 {entry.amount} 名，收回空编池；空编池现有 {entry.balance_after} 名。",
        "success",
    )
    return redirect(url_for("office.vacancy_pool"))


@bp.route("/establishment/pool/allocate", methods=["POST"])
@section_required("establishment_write")
def vacancy_allocate():
    unit = db.session.execute(select(Unit).filter_by(code=request.form.get("unit", ""))).scalar_one_or_none()
    try:
        if unit is None:
            raise service.EstablishmentError("调剂单位：请选择单位。")
        entry = service.allocate(unit, request.form.get("amount", ""), request.form.get("note"), current_user.username)
    except service.EstablishmentError as exc:
        return refused(
            exc,
            url_for(
                "office.vacancy_pool",
                unit=request.form.get("unit", ""),
                amount=request.form.get("amount", ""),
                note=request.form.get("note", ""),
            ),
        )
    flash(f"已从空编池调剂 {entry.amount} 名编制给 {unit.name}；空编池现有 {entry.balance_after} 名。", "success")
    return redirect(url_for("office.vacancy_pool"))
