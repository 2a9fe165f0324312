"""The office console (编办工作台)."""

from flask import Blueprint

bp = Blueprint("office", __name__, url_prefix="/office")

from . import results_views, views  # noqa: E402,F401
from . import ratings_views  # noqa: E402,F401
from . import surveys_views  # noqa: E402,F401
from . import audit_views, users_views  # noqa: E402,F401

from .auth import refuse_viewer_writes  # noqa: E402

bp.before_request(refuse_viewer_writes)
