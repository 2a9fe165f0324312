"""Results in the console: ranked tables, a page per unit, the scheme, scoring and publishing."""

import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

import scoring

from .. import charts
from ..downloads import attachment
from ..extensions import db
from ..models import PeriodStateError, Result, ResultRow, ResultState, Role, Scheme
from ..services import exports, reports
from ..services import scoring as scoring_service
from ..services.periods import move_period
from ..transactions import refusal_text, refused
from ..urls import positive_int
from . import bp, scheme_editor, scheme_messages
from .auth import may_open, section_required
from .common import period_or_404
from .forms import ActionForm, ReviewForm, SchemeForm
from .scheme_editor import SchemeEditForm


def _result_or_404(period, version=None):
    result = scoring_service.latest_result(period, version)
    if result is None and version is not None:
        abort(404)
    return result


@bp.route("/periods/<name>/results")
@section_required("results")
def results(name):
    period = period_or_404(name)
    version = request.args.get("version", type=positive_int)
    result = _result_or_404(period, version)
    versions = db.session.execute(
        db.select(Result.version, Result.state, Result.computed_at)
        .filter_by(period_id=period.id)
        .order_by(Result.version.desc())
    ).all()
    by_category = {}
    changes = []
    leaves = []
    figures = {}
    quality = None
    scheme = None
    if result is not None:
        scheme = scoring.load_scheme(result.scheme.text)
        for row in result.ordered_rows():
            by_category.setdefault(row.category, []).append(row)
        changes = scoring_service.compare_with_published(result)
        leaves = scheme.leaves
        quality = reports.quality_summary(result, scheme)
        figures = reports.result_figures(result, scheme, by_category, quality)
        if current_user.role is not Role.DATA_ADMIN:
            # which rater repeated which answer ties a rater to answers: data administrators only
            quality["straight_liners"] = None
    return render_template(
        "office/results.html",
        quality=quality,
        figures=figures,
        scheme=scheme,
        response_mark=reports.RESPONSE_MARK,
        period=period,
        result=result,
        versions=versions,
        by_category=by_category,
        changes=changes,
        leaves=leaves,
        form=ActionForm(),
        can_write=may_open(current_user, "results_write"),
    )


@bp.route("/periods/<name>/score", methods=["POST"])
@section_required("results_write")
def score(name):
    period = period_or_404(name)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run = scoring_service.score_period(period.name, actor=current_user.username)
    except (scoring_service.ScoringError, scoring.SchemeError) as exc:
        return refused(exc, url_for("office.results", name=period.name), f"无法计算：{refusal_text(exc)}")
    message = f"已生成第 {run.result.version} 版评价结果。"
    if run.changes:
        message += f"与已发布版本相比，{len(run.changes)} 个单位的得分、排名或等次有变化。"
    flash(message, "success")
    return redirect(url_for("office.results", name=period.name))


@bp.route("/periods/<name>/publish", methods=["POST"])
@section_required("results_write")
def publish(name):
    period = period_or_404(name)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        move_period(period.name, "publish", actor=current_user.username)
    except (scoring_service.ScoringError, PeriodStateError) as exc:
        return refused(exc, url_for("office.results", name=period.name), f"无法发布：{_publish_reason_zh(exc)}")
    flash("评价结果已发布并冻结。之后如再计算，将生成新的版本。", "success")
    return redirect(url_for("office.results", name=period.name))


def _publish_reason_zh(exc):
    if isinstance(exc, PeriodStateError):
        return "周期需先截止（关闭采集）后才能发布。"
    return exc.message_zh


@bp.route("/periods/<name>/results/<id:version>/units/<code>", methods=["GET", "POST"])
@section_required("results", post="results_write")
def result_unit(name, version, code):
    period = period_or_404(name)
    result = _result_or_404(period, version)
    row = db.session.execute(db.select(ResultRow).filter_by(result_id=result.id, unit_code=code)).scalar_one_or_none()
    if row is None:
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        back = url_for("office.result_unit", name=name, version=version, code=code)
        try:
            scoring_service.acknowledge_review(row, current_user.username, form.note.data)
        except scoring_service.ScoringError as exc:
            return refused(exc, back)
        flash("已记录复核意见。", "success")
        return redirect(back)
    scheme = scoring.load_scheme(result.scheme.text)
    page = reports.unit_page(result, row, scheme)
    return render_template(
        "office/result_unit.html",
        period=period,
        result=result,
        scheme=scheme,
        form=form,
        comparison=reports.unit_comparison(result, row, page["leaf_rows"], scheme),
        chart=charts.diverging_bars(
            [(leaf.name, cell["contribution"]) for leaf, cell in page["leaf_rows"] if not leaf.is_deduction]
        ),
        can_write=may_open(current_user, "results_write") and result.state is not ResultState.PUBLISHED,
        **page,
    )


EXPORTS = {
    "csv": (exports.build_csv, "text/csv; charset=utf-8"),
    "xlsx": (exports.build_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}  # the printed report and the units' files: office/report.py (built by the report worker)


@bp.route("/periods/<name>/results.<fmt>")
@section_required("results")
def results_export(name, fmt):
    """The download buttons: the results CSV or the xlsx workbook."""
    if fmt not in EXPORTS:
        abort(404)
    period = period_or_404(name)
    result = _result_or_404(period, request.args.get("version", type=positive_int))
    if result is None:
        abort(404)
    build, mimetype = EXPORTS[fmt]
    return attachment(build(result), f"results_{period.name}_v{result.version}.{fmt}", mimetype)


def _scheme_versions(period):
    return db.session.scalars(db.select(Scheme).filter_by(period_id=period.id).order_by(Scheme.version.desc())).all()


@bp.route("/periods/<name>/scheme", methods=["GET", "POST"])
@section_required("results", post="results_write")
def scheme(name):
    """The scheme editor: a Chinese form of the indicator tree and the settings, the YAML for advanced users
    and files, every version with what changed from the one before."""
    period = period_or_404(name)
    versions = _scheme_versions(period)  # newest first; empty until the period's first save or score
    current = versions[0] if versions else None
    shown = current
    wanted = request.args.get("version", type=positive_int)
    if wanted is not None:
        shown = next((v for v in versions if v.version == wanted), None) or abort(404)
    text = shown.text if shown else scoring.default_scheme_text()
    form, edit = SchemeForm(), SchemeEditForm()
    problems, field_errors, data = [], {}, yaml.safe_load(text)
    if request.method == "POST":
        if not may_open(current_user, "results_write"):
            abort(403)
        editor = request.form.get("editor") == "form"
        valid = edit.validate_on_submit() if editor else _yaml_posted(form)
        if valid:
            if editor:
                base = yaml.safe_load(current.text if current else scoring.default_scheme_text())
                data = scheme_editor.apply_form(base, request.form)
                if data == base:
                    flash("没有修改任何设置，未生成新版本。", "info")
                    return redirect(url_for("office.scheme", name=period.name))
                new_text, note = scheme_editor.dump(data), edit.note.data
            else:
                new_text, note = form.text.data, form.note.data
            try:
                saved = scoring_service.save_scheme(period, new_text, current_user.username, note=note)
            except scoring.SchemeError as exc:
                problems = list(
                    zip(
                        scheme_messages.messages_zh(exc.messages, data if editor else exc.data),
                        exc.messages,
                        strict=True,
                    )
                )
                field_errors = {en.partition(": ")[0]: zh for zh, en in problems}
                if not editor:
                    text = form.text.data
            else:
                flash(f"评分方案已保存为第 {saved.version} 版；重新计算后生效。", "success")
                return redirect(url_for("office.scheme", name=period.name))
    if request.method == "GET" or not form.text.data:
        form.text.data = text
    if not isinstance(data, dict):
        data = yaml.safe_load(scoring.default_scheme_text())
    tree, sections = scheme_editor.form_fields(data)
    previous = next((v for v in versions if shown and v.version < shown.version), None)
    diff = scheme_editor.changes(previous.text, shown.text) if previous else None
    weights = [leaf.get("weight") for leaf in data.get("leaves") or [] if isinstance(leaf, dict)]
    return render_template(
        "office/scheme.html",
        period=period,
        scheme=current,
        shown=shown,
        versions=versions,
        form=form,
        edit=edit,
        problems=problems,
        field_errors=field_errors,
        tree=tree,
        sections=sections,
        diff=diff,
        previous=previous,
        weight_total=sum(w for w in weights if isinstance(w, (int, float))),
        can_write=may_open(current_user, "results_write") and (shown is current),
    ), (400 if problems else 200)  # a refused save: the commit point rolls back whatever was flushed


def _yaml_posted(form):
    """The YAML form: an uploaded .yaml file replaces the text box; a file that is not UTF-8 is refused."""
    upload = request.files.get("yaml_file")
    if upload and upload.filename:
        try:
            form.text.data = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            flash("上传的方案文件不是 UTF-8 编码的 YAML 文本。", "error")
            return False
    return form.validate_on_submit()


@bp.route("/periods/<name>/scheme.yaml")
@section_required("results")
def scheme_yaml(name):
    """The scheme (the newest version, or ?version=N) as a YAML file, to keep, edit and upload again."""
    period = period_or_404(name)
    versions = _scheme_versions(period)
    wanted = request.args.get("version", type=positive_int)
    shown = next((v for v in versions if wanted is None or v.version == wanted), None)
    if shown is None and wanted is not None:
        abort(404)
    version = shown.version if shown else 0
    return attachment(
        shown.text if shown else scoring.default_scheme_text(),
        f"scheme_{period.name}_v{version}.yaml",
        "application/x-yaml",
    )
