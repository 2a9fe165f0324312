"""The office console (编办工作台): one view module per domain, all on this blueprint.

auth (sign-in, who may open what), overview, org (units, raters), imports, surveys (raters' work), results,
ratings (好差评).
"""

from flask import Blueprint

bp = Blueprint("office", __name__, url_prefix="/office")

from . import (  # noqa: E402, F401  (each module adds its routes to bp, so it comes after bp)
    audit,
    auth,
    checkpoints,
    establishment,
    imports,
    ledger,
    liaison,
    network,
    org,
    overview,
    ratings,
    report,
    results,
    surveys,
    users,
)

bp.before_request(auth.refuse_viewer_writes)
