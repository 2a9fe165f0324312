"""Imports in the console (数据导入): the upload form, its report, and the template downloads."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..services import imports as import_service
from . import bp
from .auth import section_required
from .forms import ImportForm


@bp.route("/imports", methods=["GET", "POST"])
@section_required("imports")
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
                options={"code_system": form.code_system.data, "new_categories": form.new_categories.data},
            )
        except import_service.ImportFailed as exc:
            errors, truncated = exc.errors, exc.truncated
        else:
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
    ), (422 if errors else 200)  # 422 rolls back what the failed import flushed (a period it created)


@bp.route("/imports/template/<kind>.<fmt>")
@section_required("import_templates")
def import_template(kind, fmt):
    if kind not in import_service.KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    data = import_service.template_bytes(kind, fmt)
    mime = "text/csv; charset=utf-8" if fmt == "csv" else (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        data, mimetype=mime, headers={"Content-Disposition": f"attachment; filename={kind}_template.{fmt}"}
    )
