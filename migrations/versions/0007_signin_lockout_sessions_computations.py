"""Sign-in throttle and lock-out, server-side sign-out, one computation per period, audit log by time.

- signin_failures: failed office sign-ins per account name and per client (both as HMACs);
- users.session_nonce: part of the session's user id; a sign-out draws a new one, voiding copied cookies;
- computations: at most one running result computation per period (primary key period_id);
- ix_audit_log_at: the console lists and filters the audit log by time.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_signin_failures_failures_nonneg")),
        sa.CheckConstraint("scope IN ('account', 'client')", name=op.f("ck_signin_failures_scope_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_failures")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_signin_failures_scope_key")),
    )
    op.create_table(
        "computations",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"], name=op.f("fk_computations_period_id_periods")),
        sa.PrimaryKeyConstraint("period_id", name=op.f("pk_computations")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_nonce", sa.String(length=32), nullable=True))
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade():
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_nonce")
    op.drop_table("computations")
    op.drop_table("signin_failures")
