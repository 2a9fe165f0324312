"""Creating and upgrading the schema."""

from flask import current_app
from flask_migrate import upgrade


def init_db():
    """Bring the schema to the newest migration; harmless when it is already there."""
    upgrade(directory=current_app.extensions["migrate"].directory)
