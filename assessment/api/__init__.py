"""The JSON API for rating devices and integrations (/api/v1)."""

from flask import Blueprint, request

from ..extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@limiter.request_filter
def _metered_by_the_api():
    """Flask-Limiter guards the sign-in form; the API meters each device by its key (ratelimit.py), so its
    requests skip the limiter's per-request work."""
    return request.blueprint == "api"


from . import views  # noqa: E402,F401
