"""Console pages of the supervision network: informants' suggestions (screening, turning into problems, counts
per informant, town and month), the participants with their personal links, linkage departments' quarterly
reporting and their spreadsheets (the `problems` import, source linkage)."""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Participant, ParticipantKind, Suggestion, SuggestionStatus
from ..services import access, ledger_lists, network, uploads
from ..services.imports import ImportFailed, run_import
from ..services.ledger import LedgerError
from ..services.workdays import china_today
from ..transactions import refused
from ..urls import calendar_year, positive_int
from . import bp
from .auth import may_open, section_required
from .common import period_arg, periods
from .ledger import problem_input


@bp.route("/network")
@section_required("network")
def network_suggestions():
    period = period_arg(required=True)
    status = request.args.get("status") or None
    try:
        status = SuggestionStatus(status) if status else None
    except ValueError:
        abort(400)
    return render_template(
        "office/network/suggestions.html",
        period=period,
        periods=periods(),
        suggestions=network.suggestions(period, status),
        status=status,
        statuses=list(SuggestionStatus),
        counts=network.informant_counts(period),
        may_write=may_open(current_user, "network_write"),
        **ledger_lists.form_options(),
    )


def _suggestion(suggestion_id) -> Suggestion:
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None:
        abort(404)
    return suggestion


@bp.route("/network/suggestions/<id:suggestion_id>/screen", methods=["POST"])
@section_required("network_write")
def network_screen(suggestion_id):
    suggestion = _suggestion(suggestion_id)
    verdict = {"valid": True, "invalid": False}.get(request.form.get("verdict"))
    back = url_for("office.network_suggestions", period=request.args.get("period")) + f"#s{suggestion_id}"
    try:
        network.screen(suggestion, current_user.username, valid=verdict, note=request.form.get("note"))
    except LedgerError as exc:
        return refused(exc, back)
    flash(f"第 {suggestion.id} 条已甄别为“{suggestion.status.label}”。", "success")
    return redirect(back)


@bp.route("/network/suggestions/<id:suggestion_id>/problem", methods=["POST"])
@section_required("network_write")
def network_to_problem(suggestion_id):
    suggestion = _suggestion(suggestion_id)
    try:
        problem = network.to_problem(suggestion, current_user.username, problem_input(request.form))
    except LedgerError as exc:
        return refused(exc, url_for("office.network_suggestions") + f"#s{suggestion_id}")
    flash(f"已转为问题 {problem.number}。", "success")
    return redirect(url_for("office.ledger_problem", problem_id=problem.id))


@bp.route("/network/suggestions/file/<id:suggestion_id>")
@section_required("network")
def network_file(suggestion_id):
    """An informant's photo or file: to the office only."""
    suggestion = _suggestion(suggestion_id)
    row = suggestion.file
    if row is None:
        abort(404)
    path = uploads.path_of(network.UPLOAD_AREA, row.stored_name)
    if not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype=row.content_type,
        as_attachment=row.content_type == "application/pdf",
        download_name=row.original_name,
    )


# --------------------------------------------------------------------------------------------- participants


@bp.route("/network/people")
@section_required("network")
def network_people():
    period = period_arg(required=True)
    today = china_today()
    year, quarter = network.quarter_of(today)
    year = request.args.get("year", year, type=calendar_year)
    quarter = request.args.get("quarter", quarter, type=int)
    # The quarter's bounds are taken in UTC (a China day starts 8 hours earlier), so years 1 and 9999 are out.
    if quarter not in (1, 2, 3, 4) or not 1 < year < 9999:
        abort(400)
    people = list(db.session.scalars(select(Participant).order_by(Participant.kind, Participant.code)))
    keys = {p.id: access.live_key(p, period) for p in people}
    return render_template(
        "office/network/people.html",
        period=period,
        periods=periods(),
        people=people,
        keys=keys,
        reporting=network.linkage_reporting(year, quarter),
        year=year,
        quarter=quarter,
        first_last=network.quarter_bounds(year, quarter),
        may_write=may_open(current_user, "network_write"),
        kinds=list(ParticipantKind),
    )


@bp.route("/network/people/links", methods=["POST"])
@section_required("network_write")
def network_issue_links():
    """Issue fresh personal links and access codes to the chosen kind of participants; the CSV is the only
    place they are shown in clear."""
    period = period_arg(required=True)
    try:
        kind = ParticipantKind(request.form.get("kind", ""))
    except ValueError:
        flash("类型：请选择信息员、联动部门或专家。", "error")
        return redirect(url_for("office.network_people", period=period.name))
    people = list(
        db.session.scalars(
            select(Participant).where(Participant.kind == kind, Participant.active.is_(True)).order_by(Participant.code)
        )
    )
    if not people:
        flash(f"没有在用的{kind.label}。", "error")
        return redirect(url_for("office.network_people", period=period.name))
    data = network.links_csv(access.issue(people, period, current_user.username))
    return send_file(
        io.BytesIO(data),
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=f"links-{kind.value}-{period.name}.csv",
    )


@bp.route("/network/linkage/import", methods=["POST"])
@section_required("network_write")
def network_linkage_import():
    """A linkage department's spreadsheet: the `problems` import, each new problem kept with the department."""
    period = period_arg(required=True)
    department_id = request.form.get("department", type=positive_int)
    department = db.session.get(Participant, department_id) if department_id else None
    back = redirect(url_for("office.network_people", period=period.name))
    if department is None or department.kind is not ParticipantKind.LINKAGE:
        flash("联动部门：请选择部门。", "error")
        return back
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("导入文件：请选择 CSV 或 XLSX 文件。", "error")
        return back
    try:
        report = run_import(
            "problems",
            upload.stream,
            period.name,
            current_user.username,
            filename=upload.filename,
            options={"reporter": department.id},
        )
    except ImportFailed as exc:
        lines = "；".join(e.chinese() for e in exc.errors[:10])
        return refused(exc, back, f"导入失败，未写入任何数据：{lines}")
    c = report.counts
    flash(
        f"{department.name}：新增 {c['created']} 个问题，更新 {c['updated']} 个，未变 {c['unchanged']} 个。", "success"
    )
    return back
