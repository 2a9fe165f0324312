"""Console pages for check points (问效点): completion by unit and month, a unit's items, filing, the unit's
report with evidence, the office's waiver. A unit liaison sees and reports only its own unit's items."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from ..charts import completion_chart
from ..extensions import db
from ..models import CheckPointStatus, Period, Role, Unit
from ..services import checkpoints as service
from ..services.workdays import china_today
from . import bp
from .auth import may_open, section_required
from .common import actor_name, own_unit, period_arg
from .common import periods as all_periods


def _may_report(point) -> bool:
    """The unit's liaison, or an office writer, reports an item's outcome and adds evidence."""
    if current_user.role is Role.UNIT_LIAISON:
        return point.unit_id == current_user.unit_id
    return may_open(current_user, "checkpoints_write")


def _visible(point_id):
    """The check point, or 404 when it does not exist or is another unit's (for a liaison)."""
    own = own_unit()
    point = service.get_check_point(point_id, own.id if own else None)
    if point is None:
        abort(404)
    return point


def _date(value) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise service.CheckPointError(f"日期“{value}”无法识别，请按 2026-06-30 的格式填写。") from None


@bp.route("/checkpoints")
@section_required("checkpoints")
def checkpoints():
    own = own_unit()
    period = period_arg()
    periods = all_periods()
    unit = own
    if own is None and request.args.get("unit"):
        unit = db.session.execute(select(Unit).filter_by(code=request.args["unit"])).scalar_one_or_none()
        if unit is None:
            abort(404)
    status = request.args.get("status") or None
    if status is not None:
        try:
            status = CheckPointStatus(status)
        except ValueError:
            abort(400)
    done = items = chart = None
    if period is not None:
        done = service.completion(period, unit.id if unit else None)
        chart = completion_chart([(m, done.by_month[m]) for m in done.months])
        if unit is not None or status is not None:
            items = service.list_check_points(period, unit.id if unit else None, status)
    return render_template(
        "office/checkpoints/index.html",
        period=period,
        periods=periods,
        unit=unit,
        liaison=own is not None,
        status=status,
        statuses=list(CheckPointStatus),
        done=done,
        items=items,
        chart=chart,
        today=china_today(),
        can_file=own is not None or may_open(current_user, "checkpoints_write"),
    )


@bp.route("/checkpoints/new", methods=["GET", "POST"])
@section_required("checkpoints_report")  # office writers, and a liaison for its own unit
def checkpoint_new():
    own = own_unit()
    period = period_arg()
    if period is None:
        abort(404)
    units = [] if own else db.session.execute(select(Unit).filter_by(active=True).order_by(Unit.code)).scalars().all()
    error = None
    values = {"unit": own.code if own else request.values.get("unit", ""), "item": "", "due": ""}
    if request.method == "POST":
        values.update(item=request.form.get("item", ""), due=request.form.get("due", ""))
        unit = own or db.session.execute(select(Unit).filter_by(code=values["unit"])).scalar_one_or_none()
        try:
            if unit is None:
                raise service.CheckPointError("单位：请选择单位。")
            point = service.file_check_point(period, unit, values["item"], _date(values["due"]), actor_name())
        except service.CheckPointError as exc:
            db.session.rollback()
            error = exc.message_zh
        else:
            flash(f"已登记问效点“{point.item}”，完成时限 {point.due}。", "success")
            return redirect(url_for("office.checkpoints", period=period.name, unit=unit.code))
    return render_template(
        "office/checkpoints/new.html", period=period, own=own, units=units, values=values, error=error
    ), 200 if error is None else 400


@bp.route("/checkpoints/<id:point_id>")
@section_required("checkpoints")
def checkpoint_detail(point_id):
    point = _visible(point_id)
    period = db.session.get(Period, point.period_id)
    return render_template(
        "office/checkpoints/detail.html",
        point=point,
        period=period,
        may_report=_may_report(point),
        may_waive=may_open(current_user, "checkpoints_write"),  # office writers only: no liaison
        today=china_today(),
        error=None,
        values={},
    )


def _detail_with_error(point, message, values):
    db.session.rollback()
    period = db.session.get(Period, point.period_id)
    return render_template(
        "office/checkpoints/detail.html",
        point=point,
        period=period,
        may_report=_may_report(point),
        may_waive=may_open(current_user, "checkpoints_write"),  # office writers only: no liaison
        today=china_today(),
        error=message,
        values=values,
    ), 400


@bp.route("/checkpoints/<id:point_id>/report", methods=["POST"])
@section_required("checkpoints_report")
def checkpoint_report(point_id):
    point = _visible(point_id)
    if not _may_report(point):
        abort(403)
    form = request.form
    outcome = form.get("outcome")
    try:
        if outcome not in ("done", "not_done"):
            raise service.CheckPointError("完成情况：请选择“已完成”或“未完成”。")
        service.report_outcome(
            point,
            actor_name(),
            done=outcome == "done",
            done_on=_date(form.get("done_on")),
            evidence=form.get("evidence"),
            files=request.files.getlist("files"),
        )
    except service.CheckPointError as exc:
        return _detail_with_error(point, exc.message_zh, form)
    flash(f"已报送：{point.status.label}。", "success")
    return redirect(url_for("office.checkpoint_detail", point_id=point.id))


@bp.route("/checkpoints/<id:point_id>/evidence", methods=["POST"])
@section_required("checkpoints_report")
def checkpoint_evidence(point_id):
    point = _visible(point_id)
    if not _may_report(point):
        abort(403)
    try:
        rows = service.add_evidence(point, request.files.getlist("files"), actor_name())
    except service.CheckPointError as exc:
        return _detail_with_error(point, exc.message_zh, {})
    flash(f"已上传 {len(rows)} 个佐证材料。", "success")
    return redirect(url_for("office.checkpoint_detail", point_id=point.id))


@bp.route("/checkpoints/<id:point_id>/waive", methods=["POST"])
@section_required("checkpoints_write")
def checkpoint_waive(point_id):
    point = _visible(point_id)
    try:
        service.waive(point, request.form.get("reason"), actor_name())
    except service.CheckPointError as exc:
        return _detail_with_error(point, exc.message_zh, request.form)
    flash("已免于考核，该问效点不再计入问效点落实得分。", "success")
    return redirect(url_for("office.checkpoint_detail", point_id=point.id))


@bp.route("/checkpoints/files/<id:file_id>")
@section_required("checkpoints")
def checkpoint_file(file_id):
    own = own_unit()
    row = service.get_file(file_id, own.id if own else None)
    if row is None:
        abort(404)
    path = service.file_path(row)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.original_name)
