"""Optimistic locking of the two state machines: problems.version and check_points.version (version_id_col), so
two people moving one problem or check point from the same read cannot both write.

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
    for table in ("problems", "check_points"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    for table in ("check_points", "problems"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
