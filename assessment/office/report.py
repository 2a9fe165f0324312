"""Downloads of the printed report and the files built from a result version.

The report and the units' zip are built once per result version by the report worker (services/jobs), never in
the request: a download sends the stored bytes, or queues the job and answers 202 with its progress. One unit's
pages are cut from the stored zip, or laid out on demand (one page, well under a second). The comprehensive-
assessment office's file is small and built on request.
"""

import io
import zipfile

from flask import abort, render_template, request, send_file
from flask_login import current_user

from ..extensions import db
from ..models import ResultRow
from ..services import exports, jobs
from ..services import scoring as scoring_service
from ..services.exports.pdf import unit_file_name
from ..services.periods import NotFound, get_period
from ..urls import positive_int
from . import bp
from .auth import section_required

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
    return render_template("report/pending.html", period=period, result=result, job=job), 202


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
    stored = jobs.stored_file(result, jobs.UNITS_ZIP)
    content = None
    if stored is not None:
        with zipfile.ZipFile(io.BytesIO(stored.content)) as archive:
            if unit_file_name(row) in archive.namelist():
                content = archive.read(unit_file_name(row))
    if content is None:
        content = exports.build_unit_pdf(result, code)
    return _send(content, PDF, f"{row.unit_name}_{period.name}_第{result.version}版.pdf")


@bp.route("/periods/<name>/results/assessment.xlsx")
@section_required("results")
def results_assessment(name):
    """The file for the comprehensive-assessment office (综合考核, the 4% share), as interfaces.md gives it."""
    period, result = _result_or_404(name, request.args.get("version", type=positive_int))
    return _send(exports.build_assessment(result), XLSX, f"综合考核_{period.name}_第{result.version}版.xlsx")
