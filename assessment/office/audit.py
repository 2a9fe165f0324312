"""The audit log in the console (审计日志): who did what when, before and after, filtered, and its export."""

from datetime import date

from flask import render_template, request

from ..downloads import attachment
from ..extensions import db
from ..services import audit
from ..urls import positive_int
from . import bp
from .auth import section_required

FIELDS_ZH = {"since": "起始日期", "until": "截止日期"}
#: The dates a filter may name: far enough from date.min/date.max that the China-midnight bounds exist.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def _filter_from_args():
    """The filter of the query string, and the Chinese message of each field that is not understood."""
    errors = []
    dates = {}
    for name in ("since", "until"):
        text = (request.args.get(name) or "").strip()
        dates[name] = None
        if text:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                errors.append(f"{FIELDS_ZH[name]}“{text[:20]}”不是有效日期，应为 2026-03-01 这样的格式。")
                continue
            if EARLIEST <= day <= LATEST:
                dates[name] = day
            else:
                errors.append(f"{FIELDS_ZH[name]}“{text[:20]}”超出范围，应在 {EARLIEST} 至 {LATEST} 之间。")
    flt = audit.AuditFilter(
        **{
            name: (request.args.get(name) or "").strip()[:64]
            for name in ("actor", "action", "object_type", "object_id")
        },
        **dates,
    )
    return flt, errors


@bp.route("/audit")
@section_required("audit")
def audit_log():
    flt, errors = _filter_from_args()
    page = db.paginate(
        flt.query(), page=request.args.get("page", 1, type=positive_int), per_page=audit.PAGE_SIZE, error_out=False
    )
    rows = [(entry, *audit.split_detail(entry.detail)) for entry in page.items]
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "office/audit/log.html",
        page=page,
        rows=rows,
        flt=flt,
        errors=errors,
        choices=audit.choices(),
        args=args,
    )


@bp.route("/audit.csv")
@section_required("audit")
def audit_export():
    flt, errors = _filter_from_args()
    if errors:
        return render_template("error.html", status=400, message=" ".join(errors)), 400
    return attachment(audit.export_csv(flt), "audit_log.csv", "text/csv; charset=utf-8")
