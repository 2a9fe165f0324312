"""Console pages for public ratings (好差评): figures, flagged ratings, bad-rating cases, devices, calendar."""

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..charts import trend_chart
from ..extensions import db
from ..labels import LEVEL_LABELS
from ..models import CaseClass, CaseState, Channel, Role, Unit
from ..services import workdays
from ..services.ratings import cases as case_service
from ..services.ratings import devices as device_service
from ..services.ratings import exclusions, flags, stats
from ..transactions import refused
from ..urls import calendar_year, positive_int, safe_next
from . import bp
from .auth import may_open, section_required
from .common import own_unit, period_arg, periods


def _is_writer():
    return may_open(current_user, "ratings_write")


def _is_liaison():
    return current_user.role is Role.UNIT_LIAISON


def _unit_arg():
    code = request.args.get("unit")
    if not code:
        return None
    unit = db.session.execute(select(Unit).filter_by(code=code)).scalar_one_or_none()
    if unit is None:
        abort(404)
    return unit


def _back(default):
    return safe_next(request.form.get("next"), default)


# --- figures ----------------------------------------------------------------------------------------------


@bp.route("/ratings")
@section_required("ratings")
def ratings():
    period = period_arg()
    unit = _unit_arg()
    context = {"period": period, "periods": periods(), "unit": unit, "level_labels": LEVEL_LABELS}
    if period is not None:
        unit_id = unit.id if unit else None
        trend = stats.monthly_trend(period, unit_id)
        context.update(
            summary=stats.summary(period, unit_id),
            trend=trend,
            chart=trend_chart(trend),
            rates=case_service.case_rates(period.id, unit_id),
            table=None if unit else stats.unit_table(period),
            case_counts=None if unit else case_service.counts_by_unit(period.id),
        )
    return render_template("office/ratings/overview.html", **context)


@bp.route("/ratings/flagged")
@section_required("ratings")
def flagged_ratings():
    period = period_arg()
    unit = _unit_arg()
    flag = request.args.get("flag") or None
    if flag is not None and flag not in flags.FLAG_LABELS:
        abort(400)
    show = request.args.get("show", "open")
    if show not in ("open", "excluded", "all"):
        abort(400)
    page = None
    if period is not None:
        page = stats.flagged_ratings(
            period, unit.id if unit else None, flag, show, page=request.args.get("page", 1, type=positive_int)
        )
    units = db.session.execute(select(Unit).order_by(Unit.code)).scalars().all()
    return render_template(
        "office/ratings/flagged.html",
        period=period,
        periods=periods(),
        unit=unit,
        units=units,
        flag=flag,
        show=show,
        page=page,
        flag_labels=flags.FLAG_LABELS,
        level_labels=LEVEL_LABELS,
        can_write=_is_writer(),
    )


@bp.route("/ratings/<id:rating_id>/exclusion", methods=["POST"])
@section_required("ratings_write")
def rating_exclusion(rating_id):
    excluded = request.form.get("action") == "exclude"
    try:
        reason = request.form.get("reason", "")
        exclusions.set_excluded(rating_id, excluded, reason, current_user.username)
    except exclusions.RatingError as exc:
        return refused(exc, _back(url_for("office.flagged_ratings")))
    flash("已剔除该评价，不再计分。" if excluded else "已恢复该评价，重新计分。", "success")
    return redirect(_back(url_for("office.flagged_ratings")))


# --- devices ----------------------------------------------------------------------------------------------


@bp.route("/devices")
@section_required("ratings")
def devices():
    units = db.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.code)).scalars().all()
    return render_template(
        "office/ratings/devices.html",
        rows=device_service.device_rows(),
        units=units,
        channels=list(Channel),
        can_write=_is_writer(),
        form=request.form,
    )


def _key_page(device, key, rotated):
    return render_template(
        "office/ratings/device_key.html",
        device=device,
        key=key,
        rotated=rotated,
        api_url=url_for("api.post_ratings", _external=True),
    )


@bp.route("/devices", methods=["POST"])
@section_required("ratings_write")
def register_device():
    form = request.form
    integration = form.get("kind") == "integration"
    try:
        device, key = device_service.register_device(
            form.get("unit_code") or None,
            form.get("window"),
            actor=current_user.username,
            location=form.get("location"),
            integration=integration,
            channel=form.get("channel") or None,
            code_system=form.get("code_system") or "standard",
        )
    except device_service.DeviceError as exc:  # a 400 answer: the commit point rolls back
        flash(exc.message_zh, "error")
        return devices(), 400
    return _key_page(device, key, rotated=False)


@bp.route("/devices/<id:device_id>/rotate", methods=["POST"])
@section_required("ratings_write")
def rotate_device_key(device_id):
    try:
        device, key = device_service.rotate_key(device_id, current_user.username)
    except device_service.DeviceError:
        abort(404)
    return _key_page(device, key, rotated=True)


@bp.route("/devices/<id:device_id>/enabled", methods=["POST"])
@section_required("ratings_write")
def set_device_enabled(device_id):
    enabled = request.form.get("enabled") == "1"
    try:
        device_service.set_enabled(device_id, enabled, current_user.username)
    except device_service.DeviceError:
        abort(404)
    flash(f"设备{device_id}已{'启用' if enabled else '停用'}。", "success")
    return redirect(url_for("office.devices"))


# --- bad-rating cases -------------------------------------------------------------------------------------


@bp.route("/cases")
@section_required("cases")
def cases():
    period = period_arg()
    unit = own_unit() if _is_liaison() else _unit_arg()
    state = request.args.get("state") or None
    if state is not None:
        try:
            state = CaseState(state)
        except ValueError:
            abort(400)
    overdue = request.args.get("overdue") == "1"
    period_id = period.id if period else None
    unit_id = unit.id if unit else None
    number = request.args.get("page", 1, type=positive_int)
    page = case_service.list_cases(period_id, unit_id, state, overdue, page=number)
    return render_template(
        "office/ratings/cases.html",
        period=period,
        periods=periods(),
        unit=unit,
        state=state,
        overdue=overdue,
        page=page,
        rates=case_service.case_rates(period_id, unit_id),
        units=[] if _is_liaison() else case_service.units_with_cases(),
        states=list(CaseState),
        state_labels=case_service.STATE_LABELS,
        class_labels=case_service.CLASS_LABELS,
        level_labels=LEVEL_LABELS,
        today=workdays.china_today(),
        liaison=_is_liaison(),
        working_days=workdays.case_working_days(),
    )


def _visible_case(case_id):
    case = case_service.get_case(case_id)
    if case is None or not case_service.may_see(current_user, case):
        abort(404)
    return case


@bp.route("/cases/<id:case_id>")
@section_required("cases")
def case_detail(case_id):
    case = _visible_case(case_id)
    steps = [s for s in case_service.next_steps(case) if case_service.may_take(current_user, case, s)]
    return render_template(
        "office/ratings/case.html",
        case=case,
        steps=steps,
        state_labels=case_service.STATE_LABELS,
        class_labels=case_service.CLASS_LABELS,
        step_labels=case_service.STEP_LABELS,
        classes=list(CaseClass),
        level_labels=LEVEL_LABELS,
        overdue=case_service.is_overdue(case),
        liaison=_is_liaison(),
    )


@bp.route("/cases/<id:case_id>/<step>", methods=["POST"])
@section_required("cases_write")
def case_step(case_id, step):
    case = _visible_case(case_id)
    if step not in case_service.STEP_LABELS:
        abort(404)
    try:
        case_service.take_step(case, step, request.form, current_user)
    except case_service.CaseError as exc:
        return refused(exc, url_for("office.case_detail", case_id=case_id))
    flash(f"工单{case_id}：{case_service.STEP_LABELS[step]}已完成。", "success")
    return redirect(url_for("office.case_detail", case_id=case_id))


# --- working-day calendar ---------------------------------------------------------------------------------


@bp.route("/calendar")
@section_required("ratings")
def calendar():
    year = request.args.get("year", workdays.china_today().year, type=calendar_year)
    days = workdays.list_days(year)
    return render_template(
        "office/ratings/calendar.html",
        year=year,
        days=days,
        working_days=workdays.case_working_days(),
        can_write=_is_writer(),
        weekdays="一二三四五六日",
        max_days=workdays.MAX_CASE_DAYS,
    )


def _form_date(name):
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


@bp.route("/calendar/day", methods=["POST"])
@section_required("ratings_write")
def calendar_day():
    day = _form_date("day")
    if day is None:
        flash("请填写正确的日期。", "error")
    elif request.form.get("action") == "remove":
        removed = workdays.remove_day(day, current_user.username)
        flash(f"{day} 已恢复为按星期计算。" if removed else f"{day} 不是特殊日期。", "success" if removed else "info")
    else:
        is_workday = request.form.get("kind") == "workday"
        workdays.set_day(day, is_workday, request.form.get("name", ""), current_user.username)
        flash(f"{day} 已设为{'调休工作日' if is_workday else '节假日'}。", "success")
    return redirect(url_for("office.calendar", year=day.year if day else None))


@bp.route("/calendar/setting", methods=["POST"])
@section_required("ratings_write")
def calendar_setting():
    try:
        n = int(request.form.get("working_days", ""))
    except ValueError:
        flash("办理时限：请填写整数。", "error")
        return redirect(url_for("office.calendar"))
    try:
        workdays.set_case_working_days(n, current_user.username)
    except workdays.CalendarError as exc:
        return refused(exc, url_for("office.calendar"))
    flash(f"差评工单办理时限已设为{n}个工作日（新开工单生效）。", "success")
    return redirect(url_for("office.calendar"))


@bp.route("/calendar/defaults", methods=["POST"])
@section_required("ratings_write")
def calendar_defaults():
    added = workdays.install_defaults(current_user.username)
    flash(f"已补充默认节假日安排 {added} 天（已修改的日期保持不变）。", "success")
    return redirect(url_for("office.calendar", year=workdays.DEFAULT_CALENDAR_YEAR))
