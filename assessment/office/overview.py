"""The console's first page (工作台): periods with their figures, and totals."""

from flask import render_template

from ..services import overview
from . import bp
from .auth import section_required


@bp.route("/")
@section_required("overview")
def index():
    return render_template("office/index.html", periods=overview.period_counts(), totals=overview.totals())
