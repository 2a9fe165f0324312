"""The office console (编办工作台)."""

from flask import Blueprint

bp = Blueprint("office", __name__, url_prefix="/office")

from . import results_views, views  # noqa: E402,F401
from . import ratings_views  # noqa: E402,F401
from . import report_views  # noqa: E402,F401
