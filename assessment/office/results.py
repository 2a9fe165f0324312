"""Results in the console: ranked tables, a page per unit, the scheme, scoring and publishing."""

import math

import yaml
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

import scoring
from scoring import scheme_messages

from .. import charts
from ..downloads import attachment
from ..extensions import db
from ..labels import INSTRUMENT_ZH
from ..models import PeriodStateError, Result, ResultRow, ResultState, Role, Scheme
from ..services import exports, reports
from ..services import scoring as scoring_service
from ..services.periods import NotFound, get_period, move_period
from ..transactions import discard_refused_work
from ..urls import positive_int
from . import bp, scheme_editor
from .auth import may_open, section_required
from .forms import ActionForm, ReviewForm, SchemeForm
from .scheme_editor import SchemeEditForm


def _period_or_404(name):
    try:
        return get_period(name)
    except NotFound:
        abort(404)


def _result_or_404(period, version=None):
    result = scoring_service.latest_result(period, version)
    if result is None and version is not None:
        abort(404)
    return result


@bp.route("/periods/<name>/results")
@section_required("results")
def results(name):
    period = _period_or_404(name)
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
    quality = _quality(result)
    if result is not None:
        for row in scoring_service.ordered_rows(result):
            by_category.setdefault(row.category, []).append(row)
        changes = scoring_service.compare_with_published(result)
        leaves = scoring.load_scheme(result.scheme.text).leaves
        figures = _figures(result, by_category, leaves, quality)
    return render_template(
        "office/results.html",
        quality=quality,
        figures=figures,
        period=period,
        result=result,
        versions=versions,
        by_category=by_category,
        changes=changes,
        leaves=leaves,
        form=ActionForm(),
        can_write=may_open(current_user, "results_write"),
    )


def _figures(result, by_category, leaves, quality):
    """The results page's charts: the composites' distribution, and per category the ranking, the heat map
    and the rank intervals; the response rates per instrument."""
    return {
        "distribution": charts.distribution_chart([r.composite for r in result.rows], width=480),
        "categories": {
            category: {
                "ranking": charts.ranking_chart(rows, width=440, label_width=145),
                "heat": charts.heat_map(rows, leaves),
                "intervals": charts.rank_intervals(rows, width=440, label_width=145),
            }
            for category, rows in by_category.items()
        },
        "response": charts.share_bars(
            [
                (
                    q["name"],
                    q["submitted"] / q["assigned"] if q["assigned"] else None,
                    f"{q['submitted']}/{q['assigned']}",
                )
                for q in (quality or {}).get("instruments", [])
            ],
            mark=0.8,
            title="各问卷回收率",
            width=440,
        ),
        "towns": charts.share_bars(
            [(t["town"], t["rate"], f"{t['submitted']}/{t['assigned']}") for t in (quality or {}).get("towns", [])],
            mark=0.8,
            title="镇街评议回收率",
            width=440,
        ),
    }


def _quality(result):
    """Data quality of a result for the page: response rates, agreement, straight-lining.

    Straight-liners are counted per instrument for everyone; the list of rater codes (which, with the answer
    they repeated, ties a rater to answers) is shown only to data administrators.
    """
    if result is None:
        return None
    quality = (result.extras or {}).get("quality") or {}
    rates = {}
    for row in quality.get("response_rates", []):
        entry = rates.setdefault(row["instrument"], {"assigned": 0, "submitted": 0, "towns": []})
        entry["assigned"] += row["assigned"] or 0
        entry["submitted"] += row["submitted"] or 0
        if row.get("town"):
            entry["towns"].append(row)
    alpha = {row["instrument"]: row["alpha"] for row in quality.get("alpha", [])}
    liners = quality.get("straight_liners", [])
    counts = {}
    for row in liners:
        counts[row["instrument"]] = counts.get(row["instrument"], 0) + 1
    return {
        "instruments": [
            {
                "key": key,
                "name": INSTRUMENT_ZH.get(key, key),
                "assigned": rates.get(key, {}).get("assigned", 0),
                "submitted": rates.get(key, {}).get("submitted", 0),
                "alpha": alpha.get(key),
                "straight": counts.get(key, 0),
                "alpha_text": alpha_reading(alpha.get(key)),
            }
            for key in INSTRUMENT_ZH
            if key in rates or key in alpha
        ],
        "towns": sorted(rates.get("grassroots", {}).get("towns", []), key=lambda r: r["rate"] or 0),
        "straight_liners": liners if current_user.role is Role.DATA_ADMIN else None,
        "straight_min": scoring.load_scheme(result.scheme.text).straight_line_min,
    }


#: Plain-Chinese readings of Krippendorff's alpha, from the highest lower bound down (0.8 and 0.667 are
#: Krippendorff's own thresholds for reliable and tentatively acceptable data).
ALPHA_READINGS = (
    (0.8, "高度一致"),
    (0.667, "较一致"),
    (0.4, "一般"),
    (0.0, "较弱，评价人看法差别大"),
    (float("-inf"), "相互矛盾"),
)


def alpha_reading(alpha):
    """What a Krippendorff's alpha means, in words an office clerk can repeat; 样本太少 when there is none."""
    if alpha is None or math.isnan(alpha):
        return "样本太少，无法计算"
    return next(text for low, text in ALPHA_READINGS if alpha >= low)


@bp.route("/periods/<name>/score", methods=["POST"])
@section_required("results_write")
def score(name):
    period = _period_or_404(name)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run = scoring_service.score_period(period.name, actor=current_user.username)
    except (scoring_service.ScoringError, scoring.SchemeError) as exc:
        discard_refused_work()
        flash(f"无法计算：{getattr(exc, 'message_zh', None) or exc}", "error")
        return redirect(url_for("office.results", name=period.name))
    message = f"已生成第 {run.result.version} 版评价结果。"
    if run.changes:
        message += f"与已发布版本相比，{len(run.changes)} 个单位的得分、排名或等次有变化。"
    flash(message, "success")
    return redirect(url_for("office.results", name=period.name))


@bp.route("/periods/<name>/publish", methods=["POST"])
@section_required("results_write")
def publish(name):
    period = _period_or_404(name)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        move_period(period.name, "publish", actor=current_user.username)
    except (scoring_service.ScoringError, PeriodStateError) as exc:
        discard_refused_work()
        flash(f"无法发布：{_publish_reason_zh(exc)}", "error")
        return redirect(url_for("office.results", name=period.name))
    flash("评价结果已发布并冻结。之后如再计算，将生成新的版本。", "success")
    return redirect(url_for("office.results", name=period.name))


def _publish_reason_zh(exc):
    if isinstance(exc, PeriodStateError):
        return "周期需先截止（关闭采集）后才能发布。"
    return exc.message_zh


@bp.route("/periods/<name>/results/<id:version>/units/<code>", methods=["GET", "POST"])
@section_required("results", post="results_write")
def result_unit(name, version, code):
    period = _period_or_404(name)
    result = _result_or_404(period, version)
    row = db.session.execute(db.select(ResultRow).filter_by(result_id=result.id, unit_code=code)).scalar_one_or_none()
    if row is None:
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            scoring_service.acknowledge_review(row, current_user.username, form.note.data)
        except scoring_service.ScoringError as exc:
            discard_refused_work()
            flash(exc.message_zh, "error")
        else:
            flash("已记录复核意见。", "success")
        return redirect(url_for("office.result_unit", name=name, version=version, code=code))
    page = reports.unit_page(result, row)
    return render_template(
        "office/result_unit.html",
        period=period,
        result=result,
        form=form,
        comparison=_comparison(result, row, page["leaf_rows"]),
        can_write=may_open(current_user, "results_write") and result.state is not ResultState.PUBLISHED,
        **page,
    )


def _comparison(result, row, leaf_rows):
    """The unit against its category: per weighted leaf its score beside the category's mean, lowest and
    highest (points), and the category's ranking chart with the unit marked."""
    members = [r for r in scoring_service.ordered_rows(result) if r.category == row.category]
    items = []
    for leaf, data in leaf_rows:
        if leaf.is_deduction:
            continue
        values = [v for r in members if (v := ((r.leaves or {}).get(leaf.id) or {}).get("value")) is not None]
        own = data.get("value")
        if own is None and data.get("suppressed"):
            own = "样本不足"
        items.append(
            (
                leaf.name,
                own,
                sum(values) / len(values) if values else None,
                min(values, default=None),
                max(values, default=None),
            )
        )
    composites = [r.composite for r in members if r.composite is not None]
    return {
        "leaves": charts.compare_chart(items, width=480),
        "ranking": charts.ranking_chart(members, width=440, label_width=145, highlight=row.unit_code),
        "mean": sum(composites) / len(composites) if composites else None,
        "count": len(members),
    }


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
    period = _period_or_404(name)
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
    period = _period_or_404(name)
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
                discard_refused_work()
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
    )


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
    period = _period_or_404(name)
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
