"""The organisation in the console: units (被评价单位) and raters (评价人)."""

from flask import abort, render_template, request
from sqlalchemy import func

from ..extensions import db
from ..models import Rater, RaterGroup, Town, Unit
from ..urls import positive_int
from . import bp
from .auth import section_required


@bp.route("/units")
@section_required("units")
def units():
    rows = db.session.execute(db.select(Unit).order_by(Unit.category, Unit.code)).scalars().all()
    return render_template("office/units.html", units=rows)


@bp.route("/raters")
@section_required("raters")
def raters():
    group = request.args.get("group") or None
    query = db.select(Rater).order_by(Rater.group, Rater.code)
    if group:
        try:
            query = query.filter(Rater.group == RaterGroup(group))
        except ValueError:
            abort(400)
    page = db.paginate(query, page=request.args.get("page", 1, type=positive_int), per_page=100, error_out=False)
    counts = dict(db.session.execute(db.select(Rater.group, func.count()).group_by(Rater.group)).all())
    towns = {t.id: t.name for t in db.session.execute(db.select(Town)).scalars()}
    return render_template(
        "office/raters.html", page=page, group=group, groups=list(RaterGroup), counts=counts, towns=towns
    )
