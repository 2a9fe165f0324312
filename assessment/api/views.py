from flask import jsonify
from sqlalchemy import text

from ..errors import api_error
from ..extensions import db
from . import bp


@bp.get("/health")
def health():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        db.session.rollback()
        return api_error(503, "database_unavailable", "the database does not answer")
    return jsonify(status="ok")
