"""Optimistic locking of the two state machines: problems.version and check_points.version, so two
people moving one problem or check point from the same read cannot both write.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (SQLite 3.35+ adds and drops such a column in place): a batch copy of problems would
    # drop a table that problem_steps references.
    for table in ("problems", "check_points"):
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    for table in ("check_points", "problems"):
        op.drop_column(table, "version")
