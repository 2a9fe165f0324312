"""Migrations build the schema the models describe, on an empty database, and init-db is idempotent."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from assessment.extensions import db
from assessment.models import Instrument


def test_migrations_match_models(ctx):
    """Would autogenerate find anything the migrations forgot?"""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_init_db_twice_is_harmless(runner, app):
    """Is `assessment init-db` safe to run again on an upgraded database?"""
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    assert "Instruments added: 0" in second.output
    with app.app_context():
        keys = sorted(db.session.scalars(sa.select(Instrument.key)))
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert keys == ["deputy", "expert", "grassroots", "leader", "peer", "self"]
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    assert version == ScriptDirectory.from_config(config).get_current_head()
