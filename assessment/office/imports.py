"""Imports in the console (数据导入): the upload form, its report, the templates with their 填写说明, and the
reference lists (参考清单) of the codes a file may use."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..downloads import attachment
from ..extensions import db
from ..services import imports as import_service
from . import bp
from .auth import section_required
from .forms import ImportForm

#: What the second of two uploads of the same rows at once is told (the first one's rows are stored).
CONCURRENT_IMPORT_ZH = "另一个导入刚刚写入了相同的数据，请刷新后查看"


@bp.route("/imports", methods=["GET", "POST"])
@section_required("imports")
def imports():
    form = ImportForm()
    report = errors = None
    truncated = status = 0
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
        except IntegrityError:
            # Someone imported the same rows a moment ago (two uploads of one file at once): their import won;
            # roll back ours (nothing of it stays) and say so instead of a 500.
            db.session.rollback()
            flash(CONCURRENT_IMPORT_ZH, "error")
            status = 409
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
        notes={kind: import_service.notes(kind) for kind in import_service.KINDS},
        kind_notes={kind: import_service.NOTES[kind][0] for kind in import_service.KINDS},
        general_notes=import_service.GENERAL_NOTES,
        references={name: title for name, (title, _rows) in import_service.REFERENCES.items()},
    ), status or (422 if errors else 200)  # >= 400 rolls back what the failed import flushed (a period it created)


_MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(data: bytes, fmt: str, name: str):
    return attachment(data, name, _MIME[fmt])


@bp.route("/imports/template/<kind>.<fmt>")
@section_required("import_templates")
def import_template(kind, fmt):
    if kind not in import_service.KINDS or fmt not in _MIME:
        abort(404)
    return _download(import_service.template_bytes(kind, fmt), fmt, f"{kind}_template.{fmt}")


@bp.route("/imports/guide/<kind>.csv")
@section_required("import_templates")
def import_guide(kind):
    """The 填写说明 of a kind as a CSV of its own: the CSV template stays a header row only."""
    if kind not in import_service.KINDS:
        abort(404)
    return _download(import_service.guide_csv(kind), "csv", f"{kind}_填写说明.csv")


@bp.route("/imports/reference/<name>.<fmt>")
@section_required("import_templates")
def import_reference(name, fmt):
    """A reference list (参考清单) of the codes stored now: towns, units, categories, instruments."""
    if name not in import_service.REFERENCES or fmt not in _MIME:
        abort(404)
    title = import_service.REFERENCES[name][0]
    return _download(import_service.reference_bytes(name, fmt), fmt, f"参考清单_{title}.{fmt}")
