"""One failure counter for sign-in and access codes: wrong codes are counted in signin_failures (scope
"access_code", services/throttle.py); access_failures is dropped (its counters expire within an hour anyway).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signin_failures") as batch:
        batch.drop_constraint(op.f("ck_signin_failures_scope_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_signin_failures_scope_known"), "scope IN ('account', 'client', 'access_code')"
        )
    op.drop_table("access_failures")


def downgrade():
    op.create_table(
        "access_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_access_failures_failures_nonneg")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_failures")),
        sa.UniqueConstraint("client", name=op.f("uq_access_failures_client")),
    )
    op.execute("DELETE FROM signin_failures WHERE scope = 'access_code'")
    with op.batch_alter_table("signin_failures") as batch:
        batch.drop_constraint(op.f("ck_signin_failures_scope_known"), type_="check")
        batch.create_check_constraint(op.f("ck_signin_failures_scope_known"), "scope IN ('account', 'client')")
