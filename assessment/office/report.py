"""Downloads of the printed report and the files built from a result version.

The report and the units' zip are built once per result version by the report worker (services/jobs), never in
the request: a download sends the stored bytes, or queues the job and answers 202 with its progress. One unit's
pages come from `jobs.unit_pdf` (the stored zip, or laid out on demand). A failed job is queued again only by
the pending page's button (POST), never by a reload. The comprehensive-
assessment office's file is small and built on request.
"""

import io

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from scoring.rounding import round_half_up

from ..extensions import db
from ..models import JobState, ResultRow
from ..services import exports, jobs
from ..services import scoring as scoring_service
from ..services.periods import NotFound, get_period
from ..urls import positive_int
from . import bp
from .auth import may_open, section_required
from .forms import ActionForm

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _result_or_404(name, version=None):
    try:
        period = get_period(name)
    except NotFound:
        abort(404)
    result = scoring_service.latest_result(period, version)
    if result is None:
        abort(404)
    return period, result


def _send(content: bytes, mimetype: str, download_name: str, etag: str | None = None):
    """An attachment; the file name encoded per RFC 6266 by send_file (Chinese period and unit names)."""
    response = send_file(
        io.BytesIO(content),
        mimetype=mimetype,
        as_attachment=True,
        download_name=download_name,
        etag=etag or False,
        max_age=0,
        conditional=True,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _stored_or_pending(result, period, name, download_name, mimetype):
    stored = jobs.stored_file(result, name)
    if stored is not None:
        return _send(stored.content, mimetype, download_name, etag=stored.sha256)
    job = jobs.enqueue_report(result, actor=current_user.username)
    return (
        render_template(
            "report/pending.html",
            period=period,
            result=result,
            job=job,
            progress=job_progress(job),
            form=ActionForm(),
            can_retry=may_open(current_user, "results_write"),
            wanted=name,
        ),
        202,
    )


#: What the worker is building, by the step it reports (pdf._render_all's `step`).
STEP_ZH = {"report": "全市报告", "units": "单位报告"}


def job_progress(job) -> dict | None:
    """The pending page's progress line: the step in words, done / total and the percentage; None until the
    worker reports a total."""
    if job.state is not JobState.RUNNING or not job.total:
        return None
    return {
        "step": STEP_ZH.get(job.step, STEP_ZH["report"]),
        "done": job.done,
        "total": job.total,
        "percent": round_half_up(100 * job.done / job.total, 0),
    }


@bp.route("/periods/<name>/results.pdf")
@section_required("results")
def results_pdf(name):
    """The printed report of a result version (the latest unless ?version=)."""
    period, result = _result_or_404(name, request.args.get("version", type=positive_int))
    return _stored_or_pending(result, period, jobs.REPORT, f"评价结果_{period.name}_第{result.version}版.pdf", PDF)


@bp.route("/periods/<name>/results/units.zip")
@section_required("results")
def results_units_zip(name):
    """Every unit's pages as its own PDF, in one zip, to send to the units."""
    period, result = _result_or_404(name, request.args.get("version", type=positive_int))
    return _stored_or_pending(
        result, period, jobs.UNITS_ZIP, f"单位评价报告_{period.name}_第{result.version}版.zip", "application/zip"
    )


@bp.route("/periods/<name>/results/<id:version>/units/<code>.pdf")
@section_required("results")
def result_unit_pdf(name, version, code):
    """One unit's pages alone: from the stored zip when the worker has built it, else laid out now."""
    period, result = _result_or_404(name, version)
    row = db.session.execute(db.select(ResultRow).filter_by(result_id=result.id, unit_code=code)).scalar_one_or_none()
    if row is None:
        abort(404)
    return _send(jobs.unit_pdf(result, row), PDF, f"{row.unit_name}_{period.name}_第{result.version}版.pdf")


@bp.route("/periods/<name>/results/<id:version>/report", methods=["POST"])
@section_required("results_write")
def results_report_retry(name, version):
    """Queue a failed report job again: only on this explicit request, never on a page reload."""
    period, result = _result_or_404(name, version)
    if not ActionForm().validate_on_submit():
        abort(400)
    jobs.enqueue_report(result, actor=current_user.username, retry=True)
    # Back to the file the person was waiting for (the report or the units' zip), which shows the progress.
    endpoint = "office.results_units_zip" if request.form.get("file") == jobs.UNITS_ZIP else "office.results_pdf"
    return redirect(url_for(endpoint, name=period.name, version=result.version))


@bp.route("/periods/<name>/results/assessment.xlsx")
@section_required("results")
def results_assessment(name):
    """The file for the comprehensive-assessment office (综合考核, the 4% share), as interfaces.md gives it."""
    period, result = _result_or_404(name, request.args.get("version", type=positive_int))
    return _send(exports.build_assessment(result), XLSX, f"综合考核_{period.name}_第{result.version}版.xlsx")
