"""Console pages for raters' work (评价填报): the period's life, assignments, invitations, progress, reminders,
and the data administrators' actions on single responses (退回, 作废, 更正).

Viewers see the figures; operators and data administrators act; only data administrators see a rater's
identity next to answers (the response pages), as on the results page.
"""

import re
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..charts import score_bars
from ..downloads import attachment
from ..extensions import db
from ..labels import INSTRUMENT_ZH
from ..models import (
    Assignment,
    AssignmentRule,
    PeriodState,
    PeriodStateError,
    RaterGroup,
    ResponseVersion,
)
from ..models.org import PERIOD_TRANSITIONS
from ..services import access, response_admin
from ..services import assignments as assignment_service
from ..services import invitations as invitation_service
from ..services import periods as period_service
from ..services import progress as progress_service
from ..services import responses as response_service
from ..services.scoring import ScoringError
from ..timefmt import CST
from ..transactions import refusal_text, refused
from ..urls import positive_int
from . import bp
from .auth import may_open, section_required
from .common import period_or_404

#: The moves the console offers, in the order of the period's life: target -> (button, done message).
MOVES = {
    "open": ("开始采集", "周期 {name} 已开始采集：评价人可以用个人链接或访问码填写。"),
    "close": ("截止采集", "周期 {name} 已截止：评价人不能再修改或提交。"),
    "publish": ("发布结果", "周期 {name} 的评价结果已发布并冻结。"),
}
#: The state each of MOVES leads to (as services/periods.move_period reads the target).
TARGETS = {"open": PeriodState.OPEN, "close": PeriodState.CLOSED, "publish": PeriodState.PUBLISHED}
#: Which of MOVES each state allows, read from the model's table (PERIOD_TRANSITIONS); staying put (a published
#: period publishing a later version, done from the results page) is not a button here.
MOVES_FROM = {
    state: [move for move, target in TARGETS.items() if target is not state and target in PERIOD_TRANSITIONS[state]]
    for state in PeriodState
}


def _is_writer():
    return may_open(current_user, "surveys_write")


def _form_date(field, label):
    """A date typed in a form (YYYY-MM-DD), None when empty; PeriodError naming the field when malformed."""
    text = (request.form.get(field) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise period_service.PeriodError(f"{label}：请按 年-月-日 填写，如 2027-12-31。") from None


def _bars(items):
    """Rates (0-1) as horizontal bars in percent, coloured by how far along they are."""
    return score_bars(
        [
            (
                label,
                None if rate is None else 100 * rate,
                "none" if rate is None else "high" if rate >= 0.9 else "mid" if rate >= 0.6 else "low",
            )
            for label, rate in items
        ],
        label_width=110,
        length=250,
        bar_height=18,
        gap=6,
    )


# --- the period's life ------------------------------------------------------------------------------------


@bp.route("/surveys")
@section_required("surveys")
def surveys():
    """Every period with its state and the moves it allows, and the form for a new period."""
    return render_template(
        "office/surveys/periods.html",
        periods=period_service.list_periods(),
        moves=MOVES,
        moves_from=MOVES_FROM,
        can_write=_is_writer(),
        form=request.form,
    )


@bp.route("/surveys/periods", methods=["POST"])
@section_required("surveys_write")
def create_period():
    try:
        period = period_service.create_period(
            request.form.get("name", ""),
            _form_date("starts_on", "开始日期"),
            _form_date("ends_on", "截止日期"),
            actor=current_user.username,
        )
    except period_service.PeriodError as exc:  # a 400 answer: the commit point rolls back
        flash(refusal_text(exc), "error")
        return surveys(), 400
    flash(f"已新建周期 {period.name}（草稿）。请设置分配规则、生成任务，然后开始采集。", "success")
    return redirect(url_for("office.survey_period", name=period.name))


@bp.route("/surveys/<name>/move/<target>", methods=["POST"])
@section_required("surveys_write")
def move_period(name, target):
    period = period_or_404(name)
    if target not in MOVES:
        abort(404)
    back = url_for("office.survey_period", name=period.name)
    try:
        period_service.move_period(period.name, target, actor=current_user.username)
    except PeriodStateError as exc:
        return refused(exc, back, f"周期 {period.name} 当前为“{period.state.label}”，不能{MOVES[target][0]}。")
    except ScoringError as exc:
        return refused(exc, back, f"无法发布：{exc.message_zh}")
    flash(MOVES[target][1].format(name=period.name), "success")
    return redirect(back)


@bp.route("/surveys/<name>")
@section_required("surveys")
def survey_period(name):
    """One period's raters' work: its state and moves, assignment rules, and links to the rest."""
    period = period_or_404(name)
    figures = progress_service.progress(period)
    rules = _rules_shown(period)
    return render_template(
        "office/surveys/period.html",
        period=period,
        figures=figures,
        moves=MOVES,
        moves_from=MOVES_FROM,
        can_write=_is_writer(),
        rules=rules,
        allowed_scopes=assignment_service.allowed_scopes,
        instrument_names=INSTRUMENT_ZH,
        rules_locked=period.state in (PeriodState.CLOSED, PeriodState.PUBLISHED),
    )


def _rules_shown(period):
    """The period's assignment rules as stored, and for an instrument with none yet its default rule, unsaved:
    looking at the page never writes (assignments.rules() stores the defaults, with the looker as their author,
    so it is left to the first rule change or 生成任务)."""
    stored = {r.instrument_key: r for r in db.session.scalars(select(AssignmentRule).filter_by(period_id=period.id))}
    defaults = [
        AssignmentRule(period_id=period.id, instrument_key=key, scope=scope, enabled=True)
        for key, (scope, _) in assignment_service.DEFAULT_RULES.items()
        if key not in stored
    ]
    order = list(assignment_service.DEFAULT_RULES)
    return sorted(
        [*stored.values(), *defaults],
        key=lambda r: (order.index(r.instrument_key) if r.instrument_key in order else len(order), r.instrument_key),
    )


# --- progress and reminders -------------------------------------------------------------------------------


@bp.route("/surveys/<name>/progress")
@section_required("surveys")
def survey_progress(name):
    period = period_or_404(name)
    figures = progress_service.progress(period)
    grassroots = [t for t in figures.towns if t["code"]]
    return render_template(
        "office/surveys/progress.html",
        period=period,
        figures=figures,
        instrument_chart=_bars([(i["name"], i["tally"].rate) for i in figures.instruments]),
        town_chart=_bars([(t["name"], t["total"].rate) for t in grassroots]),
        now=datetime.now(CST),
        can_write=_is_writer(),
    )


@bp.route("/surveys/<name>/reminders.csv")
@section_required("surveys_write")
def survey_reminders(name):
    """The raters who have not submitted everything, with their phones (operators and data admins only)."""
    period = period_or_404(name)
    return attachment(progress_service.reminders_csv(period), f"reminders_{period.name}.csv", "text/csv; charset=utf-8")


# --- assignment rules and assignments ---------------------------------------------------------------------


@bp.route("/surveys/<name>/rules/<key>", methods=["POST"])
@section_required("surveys_write")
def survey_rule(name, key):
    """Change one instrument's assignment rule (applied by the next 生成任务)."""
    period = period_or_404(name)
    back = url_for("office.survey_period", name=period.name) + "#rules"
    form = request.form
    codes = None
    if "unit_codes" in form:
        codes = [c for c in re.split(r"[\s,，、;；]+", form.get("unit_codes", "")) if c]
    try:
        assignment_service.set_rule(
            period,
            key,
            current_user.username,
            enabled=form.get("enabled") == "1",
            scope=form.get("scope") or None,
            unit_codes=codes,
        )
    except assignment_service.AssignError as exc:
        return refused(exc, back, f"{INSTRUMENT_ZH.get(key, key)}：{exc.message_zh}。")
    flash(f"{INSTRUMENT_ZH.get(key, key)}的分配规则已保存；点“生成任务”后生效。", "success")
    return redirect(back)


@bp.route("/surveys/<name>/assign", methods=["POST"])
@section_required("surveys_write")
def survey_assign(name):
    """生成任务: create the period's assignments from its rules (adds what is new, keeps what has answers)."""
    period = period_or_404(name)
    try:
        run = assignment_service.assign(period, current_user.username)
    except assignment_service.AssignError as exc:
        return refused(exc, url_for("office.survey_period", name=period.name), exc.message_zh + "。")
    parts = []
    for key, count in run.counts.items():
        if count.matched or count.added or count.dropped or count.kept:
            text = f"{INSTRUMENT_ZH.get(key, key)} {count.matched + count.kept} 项（新增 {count.added}"
            if count.dropped:
                text += f"，移除规则不再包含的未开始任务 {count.dropped}"
            if count.kept:
                text += f"，规则不再包含但已作答、予以保留 {count.kept}"
            parts.append(text + "）")
    flash("已生成评价任务：" + ("；".join(parts) if parts else "没有符合规则的任务") + "。", "success")
    if run.raters_without_unit:
        flash(f"以下部门评价人未登记所在单位，未分配互评和自评：{'、'.join(run.raters_without_unit[:20])}。", "warning")
    return redirect(url_for("office.survey_period", name=period.name))


# --- invitations: personal links and access codes ---------------------------------------------------------


def _group_arg(value):
    try:
        return invitation_service.parse_group(value)
    except invitation_service.InvitationError:
        abort(400)


@bp.route("/surveys/<name>/invitations")
@section_required("surveys")
def survey_invitations(name):
    period = period_or_404(name)
    group = _group_arg(request.args.get("group"))
    rows = invitation_service.invitation_rows(period, group)
    return render_template(
        "office/surveys/invitations.html",
        period=period,
        rows=rows,
        group=group,
        groups=list(RaterGroup),
        can_write=_is_writer(),
        page_sizes=invitation_service.PAGE_SIZES,
        issued=sum(1 for r in rows if r["key"]),
        used=sum(1 for r in rows if r["key"] and r["key"].last_used_at),
    )


#: The issue form's outputs: label, and how the clear links and codes leave (shown once in every case).
OUTPUTS = {
    "zip": "CSV 名单和 PDF 邀请函（zip 压缩包）",
    "pdf": "PDF 邀请函（每人一页）",
    "csv": "CSV 名单",
    "page": "在页面显示（少量补发、电话告知）",
}


@bp.route("/surveys/<name>/invitations", methods=["POST"])
@section_required("surveys_write")
def issue_invitations(name):
    """Issue fresh links and codes (revoking the previous ones) and hand them over once, as chosen."""
    period = period_or_404(name)
    form = request.form
    output = form.get("output", "zip")
    page_size = form.get("page_size", "A5")
    back = url_for("office.survey_invitations", name=period.name, group=form.get("group") or None)
    try:
        if output not in OUTPUTS:
            raise invitation_service.InvitationError("bad output", "输出方式：请选择列表中的一项。")
        if page_size not in invitation_service.PAGE_SIZES:
            raise invitation_service.InvitationError("bad page size", "纸张：请选择 A5 或 A4。")
        group = invitation_service.parse_group(form.get("group"))
        raters = invitation_service.select_raters(
            period, group, form.getlist("rater"), without_key=form.get("only_new") == "1"
        )
        base_url = access.base_url()
        invitations = invitation_service.issue_invitations(period, raters, current_user.username, base_url)
        if output == "page":
            return render_template(
                "office/surveys/issued.html",
                period=period,
                invitations=invitations,
                code_url=f"{base_url}/r/",
            )
        stem = f"invitations_{period.name}{'_' + group.value if group else ''}"
        if output == "csv":
            data, mimetype = invitation_service.build_csv(invitations), "text/csv; charset=utf-8"
        elif output == "pdf":
            data = invitation_service.build_pdf(invitations, period, base_url, page_size)
            mimetype = "application/pdf"
        else:
            data = invitation_service.build_zip(invitations, period, base_url, page_size)
            mimetype = "application/zip"
    except invitation_service.InvitationError as exc:
        return refused(exc, back)
    return attachment(data, f"{stem}.{output}", mimetype)


@bp.route("/surveys/<name>/invitations/revoke", methods=["POST"])
@section_required("surveys_write")
def revoke_invitations(name):
    """Stop links and codes at once: one rater's (a lost phone) or a whole group's."""
    period = period_or_404(name)
    form = request.form
    back = url_for("office.survey_invitations", name=period.name, group=form.get("group") or None)
    try:
        group = invitation_service.parse_group(form.get("group"))
        codes = form.getlist("rater")
        if group is None and not codes:
            raise invitation_service.InvitationError("nothing chosen", "请选择评价人或评价人类别。")
        raters = invitation_service.select_raters(period, group, codes)
    except invitation_service.InvitationError as exc:
        return refused(exc, back)
    n = invitation_service.revoke_invitations(period, raters, current_user.username)
    flash(f"已停用 {n} 个个人链接和访问码，立即失效；如需继续填写，请重新发放。", "success")
    return redirect(back)


# --- single responses: data administrators only (strict, see auth.STRICT) -----------------------------------


@bp.route("/surveys/<name>/responses")
@section_required("responses")
def survey_responses(name):
    period = period_or_404(name)
    args = request.args
    show = args.get("show", "submitted")
    if show not in response_admin.SHOW:
        abort(400)
    page = response_admin.list_responses(
        period,
        show,
        unit_code=args.get("unit") or None,
        rater_code=(args.get("rater") or "").strip() or None,
        instrument=args.get("instrument") or None,
        page=args.get("page", 1, type=positive_int),
    )
    return render_template(
        "office/surveys/responses.html",
        period=period,
        page=page,
        show=show,
        shows=response_admin.SHOW,
        instruments=INSTRUMENT_ZH,
        args=args,
    )


def _assignment_or_404(assignment_id):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _response_page(assignment, values=None, status=200):
    data = response_admin.history(assignment)
    defn = data["definition"]
    if values is None:
        values = {qid: ("na" if v is None else _plain(v)) for qid, v in data["current"].items()}
    return render_template(
        "office/surveys/response.html",
        assignment=assignment,
        period=assignment.period,
        data=data,
        defn=defn,
        values=values,
        label=lambda q, v: response_admin.answer_label(defn.scales.get(q.type), v),
        open=assignment.period.state is PeriodState.OPEN,
    ), status


def _plain(value):
    return str(int(value)) if float(value).is_integer() else str(value)


@bp.route("/surveys/responses/<id:assignment_id>")
@section_required("responses")
def response_detail(assignment_id):
    return _response_page(_assignment_or_404(assignment_id))


@bp.route("/surveys/responses/<id:assignment_id>/return", methods=["POST"])
@section_required("responses")
def response_return(assignment_id):
    """退回: the rater finds the answers as a draft again, with the reason, and submits anew."""
    assignment = _assignment_or_404(assignment_id)
    back = url_for("office.response_detail", assignment_id=assignment_id)
    try:
        response_service.return_to_rater(assignment, current_user.username, request.form.get("reason"))
    except response_service.ResponseError as exc:
        return refused(exc, back)
    flash("已退回评价人修改；评价人重新提交后生成新版本。", "success")
    return redirect(back)


@bp.route("/surveys/responses/<id:assignment_id>/versions/<id:version_id>/validity", methods=["POST"])
@section_required("responses")
def response_validity(assignment_id, version_id):
    """Mark one submitted version invalid (left out of scoring), or valid again; the answers stay."""
    assignment = _assignment_or_404(assignment_id)
    version = db.session.get(ResponseVersion, version_id)
    if version is None or assignment.response is None or version.response_id != assignment.response.id:
        abort(404)
    invalid = request.form.get("action") == "invalid"
    try:
        if invalid:
            response_service.mark_invalid(version, current_user.username, request.form.get("reason"))
        else:
            response_service.mark_valid(version, current_user.username, request.form.get("reason"))
    except response_service.ResponseError as exc:
        return refused(exc, url_for("office.response_detail", assignment_id=assignment_id))
    flash(
        f"第 {version.version} 版已{'标记为无效，不再计分' if invalid else '恢复有效，重新计分'}。"
        "重新计算评价结果后生效。",
        "success",
    )
    return redirect(url_for("office.response_detail", assignment_id=assignment_id))


@bp.route("/surveys/responses/<id:assignment_id>/correction", methods=["POST"])
@section_required("responses")
def response_correction(assignment_id):
    """Key in a correction (e.g. from the paper form): a new version with who, when and why."""
    assignment = _assignment_or_404(assignment_id)
    defn = response_service.definition(assignment.instrument)
    values = {q.id: (request.form.get(f"q_{q.id}") or "").strip() for q in defn.questions}
    try:
        version = response_service.correct(
            assignment,
            {qid: v for qid, v in values.items() if v},
            current_user.username,
            request.form.get("reason"),
        )
    except response_service.ResponseError as exc:  # a 400 answer: the commit point rolls back
        flash(refusal_text(exc), "error")
        return _response_page(assignment, values=values, status=400)
    flash(f"已保存更正（第 {version.version} 版）。重新计算评价结果后生效。", "success")
    return redirect(url_for("office.response_detail", assignment_id=assignment_id))
