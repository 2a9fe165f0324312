"""Console pages of the problem ledger (问题台账): the lists (all, by class, policy reserve, overdue), filing,
a problem's page with its workflow, the 信息推送表 PDF, the CSV, evidence files; and the unit liaison's
rectification report on a pushed problem of their own unit.

Views parse, call services/ledger.py, render. A refused action rolls back and shows the service's Chinese
message; the request's commit point commits the rest.
"""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import labels
from ..extensions import db
from ..models import (
    Period,
    Problem,
    ProblemAction,
    ProblemClass,
    ProblemState,
    ProblemStep,
    Role,
    StepFile,
)
from ..models.ledger import ESCALATION_STEPS
from ..services import ledger, ledger_lists, uploads
from ..services.ledger import LedgerError, ProblemInput
from ..transactions import refused
from . import bp
from .auth import may_open, section_required
from .common import actor_name, period_arg, periods

PROBLEM_FIELDS = (
    "unit_id",
    "title",
    "severity",
    "found_on",
    "deadline",
    "source",
    "problem_class",
    "category",
    "responsible",
    "description",
)


def problem_input(form) -> ProblemInput:
    """The ledger fields a problem form posted (the office's new-problem form, a suggestion turned into a problem)."""
    return ProblemInput(**{f: form.get(f) for f in PROBLEM_FIELDS if form.get(f) is not None})


# --------------------------------------------------------------------------------------------- lists


#: The list's tabs: key → (label, filters).
TABS = {
    "all": ("全部问题", {}),
    "unit": ("单位整改", {"problem_class": ProblemClass.UNIT}),
    "office": ("编办解决", {"problem_class": ProblemClass.OFFICE}),
    "reserve": ("改革政策储备", {"problem_class": ProblemClass.RESERVE}),
    "overdue": ("超期未整改", {"overdue_only": True}),
}


@bp.route("/ledger")
@section_required("ledger")
def ledger_list():
    period = period_arg(required=True)
    tab = request.args.get("tab", "all")
    if tab not in TABS:
        abort(404)
    state = request.args.get("state") or None
    try:
        state = ProblemState(state) if state else None
    except ValueError:
        abort(400)
    as_of = ledger.working_date(period)
    rows = ledger_lists.ledger_rows(
        period, as_of, state=state, category=request.args.get("category") or None, **TABS[tab][1]
    )
    return render_template(
        "office/ledger/list.html",
        period=period,
        periods=periods(),
        rows=rows,
        tab=tab,
        tabs=TABS,
        state=state,
        states=list(ProblemState),
        as_of=as_of,
        categories=labels.SUPERVISION_CATEGORIES,
        category=request.args.get("category") or "",
        may_write=may_open(current_user, "ledger_write"),
        suspended=len({r.problem.unit_id for r in rows if r.suspends}),
    )


@bp.route("/ledger.csv")
@section_required("ledger")
def ledger_csv():
    period = period_arg(required=True)
    return send_file(
        io.BytesIO(ledger_lists.build_csv(period)),
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=f"ledger-{period.name}.csv",
    )


# --------------------------------------------------------------------------------------------- filing


@bp.route("/ledger/new", methods=["GET", "POST"])
@section_required("ledger_write")
def ledger_new():
    period = period_arg(required=True)
    values, error = {}, None
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            problem = ledger.file_problem(period, problem_input(request.form), actor_name())
        except LedgerError as exc:
            db.session.rollback()
            error = exc
        else:
            flash(f"问题 {problem.number} 已登记。", "success")
            return redirect(url_for("office.ledger_problem", problem_id=problem.id))
    return render_template(
        "office/ledger/new.html", period=period, values=values, error=error, **ledger_lists.form_options()
    ), 400 if error else 200


# --------------------------------------------------------------------------------------------- one problem


def _problem(problem_id) -> Problem:
    problem = db.session.get(Problem, problem_id)
    if problem is None:
        abort(404)
    return problem


@bp.route("/ledger/<id:problem_id>")
@section_required("ledger")
def ledger_problem(problem_id):
    problem = _problem(problem_id)
    period = db.session.get(Period, problem.period_id)
    as_of = ledger.working_date(period)
    return render_template(
        "office/ledger/problem.html",
        p=problem,
        period=period,
        as_of=as_of,
        overdue=problem.is_overdue(as_of) and problem.closed_on is None,
        suspends=problem.suspends_approvals(as_of),
        has_evidence=bool(ledger.evidence_files(problem)),
        may_write=may_open(current_user, "ledger_write"),
        escalations=ESCALATION_STEPS,
        Action=ProblemAction,
        today=ledger.china_today(),
    )


#: The office's workflow actions: name → function(problem, actor, form, files).
ACTIONS = {
    "push": lambda p, a, f, files: ledger.push(p, a, note=f.get("note")),
    "return": lambda p, a, f, files: ledger.return_report(p, a, note=f.get("note")),
    "close": lambda p, a, f, files: ledger.close(p, a, on=f.get("on"), note=f.get("note"), files=files),
    "lookback": lambda p, a, f, files: ledger.look_back(
        p, a, note=f.get("note"), on=f.get("on"), reopen=f.get("reopen") == "1", deadline=f.get("deadline")
    ),
    "escalate": lambda p, a, f, files: ledger.escalate(p, a, f.get("step"), on=f.get("on"), note=f.get("note")),
}


@bp.route("/ledger/<id:problem_id>/<action>", methods=["POST"])
@section_required("ledger_write")
def ledger_action(problem_id, action):
    problem = _problem(problem_id)
    if action not in ACTIONS:
        abort(404)
    try:
        step = ACTIONS[action](problem, actor_name(), request.form, request.files.getlist("files"))
    except LedgerError as exc:
        return refused(exc, url_for("office.ledger_problem", problem_id=problem_id))
    flash(f"问题 {problem.number}：{step.action.label}已记录。", "success")
    return redirect(url_for("office.ledger_problem", problem_id=problem_id))


@bp.route("/ledger/<id:problem_id>/sheet.pdf")
@section_required("ledger")
def ledger_sheet(problem_id):
    problem = _problem(problem_id)
    return send_file(
        io.BytesIO(ledger_lists.push_sheet_pdf(problem)),
        mimetype="application/pdf",
        as_attachment=False,
        download_name=f"信息推送表-{problem.number}.pdf",
    )


@bp.route("/ledger/file/<id:file_id>")
@section_required("ledger_unit")
def ledger_file(file_id):
    """An evidence file: to the office, and to the liaison of the problem's unit only."""
    row = db.session.get(StepFile, file_id)
    if row is None:
        abort(404)
    step = db.session.get(ProblemStep, row.step_id)
    problem = db.session.get(Problem, step.problem_id)
    if current_user.role is Role.UNIT_LIAISON and (
        problem.unit_id != current_user.unit_id or problem.pushed_at is None
    ):
        abort(404)
    path = uploads.path_of(ledger.UPLOAD_AREA, row.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=row.original_name)


# --------------------------------------------------------------------------------------------- the unit's side


@bp.route("/ledger/unit/<id:problem_id>/report", methods=["GET", "POST"])
@section_required("ledger_unit")
def ledger_unit_report(problem_id):
    """The unit liaison's rectification report (整改情况 with evidence files) on a problem pushed to their unit;
    the office may use it too (e.g. a report handed in on paper)."""
    if current_user.role is Role.UNIT_LIAISON:
        problem = ledger_lists.get_unit_problem(problem_id, current_user.unit_id)
        if problem is None:
            abort(404)
    else:
        if not may_open(current_user, "ledger_write"):
            abort(403)
        problem = _problem(problem_id)
    error = None
    if request.method == "POST":
        try:
            ledger.report_rectification(
                problem,
                actor_name(),
                note=request.form.get("note"),
                on=request.form.get("on"),
                files=request.files.getlist("files"),
            )
        except LedgerError as exc:
            db.session.rollback()
            error = exc.message_zh
        else:
            flash(f"问题 {problem.number} 的整改情况已报送，等待编办验收。", "success")
            return redirect(url_for("office.ledger_unit_report", problem_id=problem.id))
    return render_template(
        "office/ledger/unit_report.html",
        p=problem,
        steps=ledger.visible_steps(problem, "unit"),
        error=error,
        form=request.form,
        action_url=url_for("office.ledger_unit_report", problem_id=problem.id),
        may_report=problem.can(ProblemAction.REPORT),
        today=ledger.china_today(),
    ), 400 if error else 200
