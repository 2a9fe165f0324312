"""The raters' pages: personal link or access code, home, matrix and single-unit pages, drafts, submission.

A personal link (/r/<token>) or an access code (/r/) puts only the access key's id in the session; every page
checks that key again (revoked → explained; period closed → read-only). A rater only ever reaches assignments
of their own key's rater and period: any other id is "not found".
"""

from __future__ import annotations

from collections import OrderedDict

from flask import abort, flash, g, jsonify, redirect, render_template, request, session, url_for

from ..errors import api_error
from ..extensions import db
from ..models import Assignment, AssignmentState, Rater
from ..services import responses
from ..services.assignments import rater_assignments
from ..services.workdays import china_today
from ..urls import MAX_ID, positive_int
from . import bp, entry
from .widgets import read_form, render

# --- entering (web/entry.py) --------------------------------------------------------------------------------


@bp.route("/r/", methods=["GET", "POST"])
def enter_code():
    """Ask for the 8-character access code; wrong codes are slowed down per client (services/access.py)."""
    return entry.code_page(entry.RATER)


@bp.route("/r/<token>")
def open_link(token):
    """A personal link: start the session and move to the rater's home (the token leaves the address bar)."""
    return entry.open_link(token, entry.RATER)


@bp.route("/rater/exit", methods=["POST"])
def rater_exit():
    session.pop(entry.SLOTS[entry.RATER][0], None)
    flash("您已退出。再次填写请使用个人链接或访问码。", "info")
    return redirect(url_for("web.enter_code"))


# --- every rater page ---------------------------------------------------------------------------------------


@bp.before_request
def _load_rater():
    """Re-check the session's key on every rater page: revoked keys stop at once, closed periods read-only."""
    if not request.path.startswith("/rater") or request.endpoint in ("web.rater_exit", "web.fresh_csrf"):
        return None
    refused = entry.load_holder(entry.RATER)
    if refused is not None:
        return refused
    g.rater = db.session.get(Rater, g.key.rater_id)
    return None


def _assignments():
    return rater_assignments(g.rater.id, g.period.id)


def _groups(assignments):
    """The rater's assignments by instrument, in the order rater_assignments gives."""
    groups = OrderedDict()
    for a in assignments:
        groups.setdefault(a.instrument.key, []).append(a)
    return groups


def _instrument_assignments(instrument_key):
    found = [a for a in _assignments() if a.instrument.key == instrument_key]
    if not found:
        abort(404)
    return found


def _own_assignment(assignment_id) -> Assignment:
    """One of the rater's own assignments in the key's period; anything else is "not found" (no hint)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.rater_id != g.rater.id or assignment.period_id != g.period.id:
        abort(404)
    return assignment


def _editable(assignment) -> bool:
    return not g.read_only and assignment.state is not AssignmentState.SUBMITTED


def _save_from_form(assignments, defn) -> tuple[list[str], int]:
    """Save what a no-script form sent for these assignments: the Chinese errors, if any, and the status to
    answer (409 when the form carried answers that can no longer be saved: period closed or already submitted,
    as the script's path answers; 400 for a bad answer). Nothing unsaved is ever reported as saved."""
    errors, status = [], 200
    for a in assignments:
        raw = read_form(request.form, a.id, defn)
        if not raw:
            continue
        try:
            if g.read_only:
                raise responses.ResponseError("closed", g.closed_message)
            responses.save_draft(a, raw)
        except responses.ResponseError as exc:
            status = max(status, 409 if exc.code in ("closed", "already_submitted") else 400)
            errors.append(f"{a.unit.name}：{exc.message}")
    return errors, (status if errors else 200)


# --- pages --------------------------------------------------------------------------------------------------


@bp.route("/rater/")
def rater_home():
    """Every target with its state, by instrument; overall progress and the deadline."""
    assignments = _assignments()
    groups = _groups(assignments)
    sections = []
    for key, items in groups.items():
        instrument = items[0].instrument
        defn = responses.definition(instrument)
        sections.append(
            {
                "key": key,
                "title": instrument.title,
                "items": items,
                "submitted": sum(a.state is AssignmentState.SUBMITTED for a in items),
                "questions": len(defn.questions),
                "open": [a for a in items if a.state is not AssignmentState.SUBMITTED],
            }
        )
    total = len(assignments)
    done = sum(a.state is AssignmentState.SUBMITTED for a in assignments)
    returned = [a for a in assignments if a.returned]
    days_left = (g.period.ends_on - china_today()).days  # the deadline is a China date
    return render_template(
        "web/rater/home.html",
        sections=sections,
        total=total,
        done=done,
        returned=returned,
        days_left=days_left,
    )


@bp.route("/rater/<key>/q/<int:number>", methods=["GET", "POST"])
def matrix(key, number):
    """One question, every unit of the instrument as a row, the scale (and 不了解) as columns."""
    items = _instrument_assignments(key)
    defn = responses.definition(items[0].instrument)
    if not 1 <= number <= len(defn.questions):
        abort(404)
    question = defn.questions[number - 1]
    errors, status = [], 200
    if request.method == "POST":
        errors, status = _save_from_form(items, defn)
        if not errors:
            go = request.form.get("go", "stay")
            if go == "next" and number < len(defn.questions):
                return redirect(url_for("web.matrix", key=key, number=number + 1))
            if go == "prev" and number > 1:
                return redirect(url_for("web.matrix", key=key, number=number - 1))
            if go == "submit":
                return redirect(url_for("web.submit_page", key=key))
            if go == "home":
                return redirect(url_for("web.rater_home"))
            flash("已保存。", "success")
            return redirect(url_for("web.matrix", key=key, number=number))
    answers = responses.answers_by_assignment(items)
    rows = [
        {
            "assignment": a,
            "control": render(
                defn,
                question,
                a.id,
                answers[a.id],
                label=a.unit.name,
                disabled=not _editable(a),
                label_hidden=True,
            ),
            "answered": question.id in answers[a.id],
        }
        for a in items
    ]
    answered_all = sum(len([q for q in defn.questions if q.id in answers[a.id]]) for a in items)
    return render_template(
        "web/rater/matrix.html",
        key=key,
        number=number,
        defn=defn,
        question=question,
        rows=rows,
        errors=errors,
        instrument=items[0].instrument,
        scale=defn.scales[question.type],
        answered_here=sum(r["answered"] for r in rows),
        answered_all=answered_all,
        all_questions=len(defn.questions) * len(items),
        editable=any(_editable(a) for a in items),
    ), status


@bp.route("/rater/unit/<id:assignment_id>", methods=["GET", "POST"])
def unit_page(assignment_id):
    """Every question of one instrument about one unit (for leaders and experts who prefer it)."""
    assignment = _own_assignment(assignment_id)
    defn = responses.definition(assignment.instrument)
    errors, status = [], 200
    if request.method == "POST":
        errors, status = _save_from_form([assignment], defn)
        if not errors:
            go = request.form.get("go", "stay")
            if go == "submit":
                return redirect(url_for("web.submit_page", key=assignment.instrument.key, unit=assignment.id))
            if go == "next":
                following = _next_open(assignment)
                if following is not None:
                    return redirect(url_for("web.unit_page", assignment_id=following.id))
                return redirect(url_for("web.rater_home"))
            flash("已保存。", "success")
            return redirect(url_for("web.unit_page", assignment_id=assignment.id))
    answers = responses.answers_by_assignment([assignment])[assignment.id]
    themed = OrderedDict()
    for n, q in enumerate(defn.questions, start=1):
        control = render(defn, q, assignment.id, answers, label=f"{n}. {q.text}", disabled=not _editable(assignment))
        themed.setdefault(defn.themes.get(q.theme, q.theme), []).append({"n": n, "q": q, "control": control})
    return render_template(
        "web/rater/unit.html",
        assignment=assignment,
        defn=defn,
        themed=themed,
        errors=errors,
        answered=len([q for q in defn.questions if q.id in answers]),
        editable=_editable(assignment),
        following=_next_open(assignment),
    ), status


def _next_open(assignment):
    items = [a for a in _assignments() if a.instrument_id == assignment.instrument_id]
    later = [a for a in items if a.unit.code > assignment.unit.code and a.state is not AssignmentState.SUBMITTED]
    return later[0] if later else None


def _ranges(numbers: list[int]) -> str:
    """Question numbers as a person reads them: [2, 3, 4, 7] → "2–4、7"."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}–{n}")
            start = None
    return "、".join(parts)


@bp.route("/rater/<key>/submit", methods=["GET", "POST"])
def submit_page(key):
    """Show what is unanswered and ask to confirm; ask once more when every unit got the same answers."""
    items = _instrument_assignments(key)
    unit = request.values.get("unit", type=positive_int)
    if unit is not None:
        items = [a for a in items if a.id == unit]
        if not items:
            abort(404)
    pending = [a for a in items if a.state is not AssignmentState.SUBMITTED]
    defn = responses.definition(items[0].instrument)
    if g.read_only:
        flash(g.closed_message, "warning")
        return redirect(url_for("web.rater_home"))
    if not pending:
        flash("这些问卷已经提交，无需重复提交。", "info")
        return redirect(url_for("web.rater_home"))
    answers = responses.answers_by_assignment(pending)
    gaps = [
        (a, [defn.questions.index(defn.question(q)) + 1 for q in responses.unanswered(defn, answers[a.id])])
        for a in pending
    ]
    gaps = [(a, _ranges(numbers)) for a, numbers in gaps if numbers]
    same = len(pending) > 1 and responses.straight_lined([answers[a.id] for a in pending])
    error = None
    if request.method == "POST":
        if not request.form.get("confirm"):
            error = "请勾选“我已确认”后再提交。"
        elif same and not request.form.get("confirm_same"):
            error = "您对所有单位的评价完全相同，请确认这是您的真实评价。"
        else:
            done = 0
            try:
                for a in pending:
                    try:
                        responses.submit(a)
                        done += 1
                    except responses.AlreadySubmitted:
                        continue
            except responses.ResponseError as exc:
                error = exc.message
            else:
                if done:
                    flash(f"已提交 {done} 份问卷，感谢您的参与！提交后答案不能再修改。", "success")
                else:
                    flash("这些问卷已经提交，无需重复提交。", "info")
                return redirect(url_for("web.rater_home"))
    return render_template(
        "web/rater/submit.html",
        key=key,
        items=pending,
        gaps=gaps,
        same=same,
        error=error,
        defn=defn,
        unit=unit,
        instrument=items[0].instrument,
    ), (400 if error else 200)


@bp.route("/rater/answer", methods=["POST"])
def save_answer():
    """Save one answer as a draft (the page's script, also for answers kept offline and sent later).

    JSON in: {"assignment": id, "question": "g01", "value": "5" | "na" | ""}. Saving the same answer twice
    changes nothing. Out: 200 {"saved": true, "state": ...}, 400 a bad answer, 404 not the rater's, 409 the
    questionnaire is already submitted or the period is closed (the script then drops the answer).
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return api_error(400, "bad_body", "请求格式有误。")
    assignment_id, question, value = data.get("assignment"), data.get("question"), data.get("value", "")
    if (
        not isinstance(assignment_id, int)
        or isinstance(assignment_id, bool)
        or not isinstance(question, str)
        or not isinstance(value, (str, int, float))
        or isinstance(value, bool)
    ):
        return api_error(400, "bad_body", "请求格式有误。")
    if not 1 <= assignment_id <= MAX_ID:
        abort(404)
    assignment = _own_assignment(assignment_id)
    if g.read_only:
        return api_error(409, "closed", g.closed_message)
    try:
        responses.save_draft(assignment, {question: value})
    except responses.ResponseError as exc:
        status = 409 if exc.code in ("already_submitted", "closed") else 400
        return api_error(status, exc.code, exc.message)
    return jsonify({"saved": True, "state": assignment.state.value})


@bp.route("/rater/csrf")
def fresh_csrf():
    """A fresh CSRF token for a page left open longer than the token lives, or whose session the browser dropped
    (the script retries with it; without a session the answer then gets its 401 and stays queued)."""
    from flask_wtf.csrf import generate_csrf

    return jsonify({"token": generate_csrf()})
