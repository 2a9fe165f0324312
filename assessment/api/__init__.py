"""The JSON API for rating devices and integrations (/api/v1)."""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from . import views  # noqa: E402,F401
