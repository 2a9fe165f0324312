"""Office console pages: sign-in, overview, units, raters, imports."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func

from ..downloads import attachment
from ..extensions import db, limiter
from ..models import Rater, RaterGroup, Role, Town, Unit
from ..services import imports as import_service
from ..services import overview
from ..services import signin
from ..urls import positive_int, safe_next
from . import bp
from .auth import OFFICE, WRITERS, roles_required
from .forms import ImportForm, LoginForm


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = signin.sign_in(form.username.data, form.password.data, request.remote_addr)
        except signin.SigninRefused as exc:
            # Status 200 for a failure, so the commit point keeps the failure counters (429 writes nothing).
            flash(exc.message, "error")
            return render_template("office/login.html", form=form), 429 if exc.reason == "throttled" else 200
        login_user(user)
        return redirect(safe_next(request.args.get("next"), url_for("office.home")))
    return render_template("office/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        signin.end_sessions(current_user)
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("office.login"))


@bp.route("/home")
@login_required
def home():
    """Where a signed-in user lands: unit liaisons work their unit's bad-rating cases, the office its overview."""
    if current_user.role is Role.UNIT_LIAISON:
        return redirect(url_for("office.cases"))
    return redirect(url_for("office.index"))


@bp.route("/")
@roles_required(*OFFICE)
def index():
    return render_template("office/index.html", periods=overview.period_counts(), totals=overview.totals())


@bp.route("/units")
@roles_required(*OFFICE)
def units():
    rows = db.session.execute(db.select(Unit).order_by(Unit.category, Unit.code)).scalars().all()
    return render_template("office/units.html", units=rows)


@bp.route("/raters")
@roles_required(*OFFICE)
def raters():
    group = request.args.get("group") or None
    query = db.select(Rater).order_by(Rater.group, Rater.code)
    if group:
        try:
            query = query.filter(Rater.group == RaterGroup(group))
        except ValueError:
            abort(400)
    page = db.paginate(query, page=request.args.get("page", 1, type=positive_int), per_page=100, error_out=False)
    counts = dict(
        db.session.execute(db.select(Rater.group, func.count()).group_by(Rater.group)).all()
    )
    towns = {t.id: t.name for t in db.session.execute(db.select(Town)).scalars()}
    return render_template(
        "office/raters.html", page=page, group=group, groups=list(RaterGroup), counts=counts, towns=towns
    )


@bp.route("/imports", methods=["GET", "POST"])
@roles_required(*WRITERS)
def imports():
    form = ImportForm()
    report = errors = None
    truncated = 0
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_service.run_import(
                form.kind.data,
                upload.stream,
                form.period.data,
                actor=current_user.username,
                filename=upload.filename,
                options={"code_system": form.code_system.data},
            )
        except import_service.ImportFailed as exc:
            db.session.rollback()
            errors, truncated = exc.errors, exc.truncated
        else:
            db.session.commit()
            flash(report.summary_zh(), "success")
            return redirect(url_for("office.imports"))
    elif request.method == "GET" and request.args.get("kind") in import_service.KINDS:
        form.kind.data = request.args["kind"]
    return render_template(
        "office/imports.html",
        form=form,
        errors=errors,
        truncated=truncated,
        kinds=import_service.KIND_LABELS,
        columns=import_service.COLUMNS,
    )


@bp.route("/imports/template/<kind>.<fmt>")
@roles_required(*OFFICE)
def import_template(kind, fmt):
    if kind not in import_service.KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    data = import_service.template_bytes(kind, fmt)
    mime = "text/csv; charset=utf-8" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return attachment(data, f"{kind}_template.{fmt}", mime)
