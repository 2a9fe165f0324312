"""Pages for raters, informants and linkage departments."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from . import network_views, rater_views, views  # noqa: E402,F401
