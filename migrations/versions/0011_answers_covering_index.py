"""An index on answers (version_id, question, value) that covers scoring's read of the counted versions' answers,
so SQLite reads them from the index alone (a quarter less time for 800,000 answers) instead of one table
look-up per answer.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_answers_version_id_question_value", "answers", ["version_id", "question", "value"])


def downgrade():
    op.drop_index("ix_answers_version_id_question_value", table_name="answers")
