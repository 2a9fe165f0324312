"""Pages of the supervision network's participants: informants (信息员) send suggestions and reports, linkage
departments (联动部门) file problem reports, experts (专家) comment on problems.

The same personal access as raters (services/access.py, web/entry.py): a link /p/<token> or an access code at /p/
puts only the key's id in the session; every page checks that key again. A participant sees only what they sent; an
informant's identity is shown to nobody but the office.
"""

from flask import abort, flash, g, redirect, render_template, request, session, url_for

from .. import transactions
from ..extensions import db
from ..models import Participant, ParticipantKind, Problem, SuggestionKind
from ..services import ledger, ledger_lists, network
from ..services.ledger import LedgerError, ProblemInput
from . import bp, entry

# --- entering (web/entry.py) --------------------------------------------------------------------------------


@bp.route("/p/", methods=["GET", "POST"])
def participant_code():
    """The access code of an informant, expert or linkage department (wrong codes slowed per client)."""
    return entry.code_page(entry.PARTICIPANT)


@bp.route("/p/<token>")
def participant_link(token):
    return entry.open_link(token, entry.PARTICIPANT)


@bp.route("/p/exit", methods=["POST"])
def participant_exit():
    session.pop(entry.SLOTS[entry.PARTICIPANT][0], None)
    flash("您已退出。再次进入请使用个人链接或访问码。", "info")
    return redirect(url_for("web.participant_code"))


@bp.before_request
def _load_participant():
    """Re-check the session's key on every participant page (revoked or closed: stop)."""
    if not request.path.startswith("/p/") or request.endpoint in (
        "web.participant_code",
        "web.participant_link",
        "web.participant_exit",
    ):
        return None
    refused = entry.load_holder(entry.PARTICIPANT)
    if refused is not None:
        return refused
    g.participant = db.session.get(Participant, g.key.participant_id)
    return None


def _home(values=None, error=None, status=200):
    """The participant's home page: what they sent (informants, linkage departments) or the problems to comment
    on (experts); with the refused form's values and message when a send was refused.

    A refused send is rolled back first: its flush may have failed (a double-clicked report meeting the UNIQUE
    key), and the page is read from a clean session; the 400 then has nothing left to roll back."""
    if error is not None:
        db.session.rollback()
    p = g.participant
    context = {"me": p, "period": g.period, "values": values or {}, "error": error, **ledger_lists.form_options()}
    if p.kind is ParticipantKind.INFORMANT:
        context["mine"] = network.own_suggestions(p, g.period)
        context["kinds"] = list(SuggestionKind)
    elif p.kind is ParticipantKind.LINKAGE:
        context["mine"] = network.department_problems(p, g.period)
    else:
        context["problems"] = network.expert_problems(g.period)
    return render_template("web/network/home.html", **context), status


@bp.route("/p/home")
def participant_home():
    return _home()


@bp.route("/p/suggest", methods=["POST"])
def participant_suggest():
    """An informant's suggestion or report, with an optional photo or file."""
    if g.participant.kind is not ParticipantKind.INFORMANT:
        abort(403)
    try:
        network.submit_suggestion(
            g.period,
            g.participant,
            kind=request.form.get("kind"),
            unit_id=request.form.get("unit_id"),
            text=request.form.get("text"),
            happened_on=request.form.get("happened_on"),
            file=request.files.get("file"),
        )
    except LedgerError as exc:
        return _home(request.form.to_dict(), exc.message_zh, 400)
    flash("已报送，感谢您的反映。编办甄别后会在此显示结果。", "success")
    return redirect(url_for("web.participant_home"))


@bp.route("/p/report", methods=["POST"])
def participant_report():
    """A linkage department's problem report: a ledger problem with source linkage."""
    if g.participant.kind is not ParticipantKind.LINKAGE:
        abort(403)
    fields = ("unit_id", "title", "description", "category", "severity", "found_on", "deadline")
    data = ProblemInput(**{f: request.form.get(f) for f in fields if request.form.get(f) is not None})
    try:
        problem = network.linkage_file(g.period, g.participant, data)
    except LedgerError as exc:
        return _home(request.form.to_dict(), exc.message_zh, 400)
    flash(f"已报送，台账编号 {problem.number}。", "success")
    return redirect(url_for("web.participant_home"))


@bp.route("/p/comment/<id:problem_id>", methods=["POST"])
def participant_comment(problem_id):
    """An expert's comment on a problem of the key's period."""
    if g.participant.kind is not ParticipantKind.EXPERT:
        abort(403)
    problem = db.session.get(Problem, problem_id)
    if problem is None or problem.period_id != g.period.id:
        abort(404)
    back = url_for("web.participant_home") + f"#p{problem_id}"
    try:
        ledger.comment(problem, g.participant, request.form.get("text"))
    except LedgerError as exc:
        return transactions.refused(exc, back)
    flash(f"对问题 {problem.number} 的点评已提交。", "success")
    return redirect(back)
