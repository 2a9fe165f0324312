"""the year-round supervision network: the numbered problem ledger, informants, experts, linkage departments
(H10a) and check points, establishment data, the vacancy pool (H10b)

Revision ID: 0006
Revises: 0005

Problems get a ledger number YYYY-NNNN (year of finding, place in that year's ledger; UNIQUE) handed out by a
per-year counter row; the existing problems are numbered here in the order they were found (then by id), and
the counters start after them. Problems also get their class (unit / office / reserve; existing ones: unit),
a description, the reporting participant and who pushed them; their history is kept in problem_steps with
evidence files. Suggestions get a kind (existing ones: suggestion), the date of the event and an attached file.
Participants may now be experts.
"""

import sqlalchemy as sa
from alembic import op

import assessment.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PROBLEM_STATE = sa.Enum(
    "open", "rectifying", "closed", name="problem_state", native_enum=False, create_constraint=True, length=24
)


def upgrade():
    # --- H10a: the problem ledger, informants, experts, linkage departments -----------------------------------
    op.create_table(
        "ledger_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.CheckConstraint("last >= 0", name=op.f("ck_ledger_counters_last_nonneg")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_ledger_counters")),
    )
    op.create_table(
        "problem_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "file",
                "push",
                "report",
                "return",
                "close",
                "lookback",
                "reopen",
                "interview",
                "letter",
                "notice",
                "comment",
                name="problem_action",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("state_after", _PROBLEM_STATE, nullable=False),
        sa.Column("at", assessment.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_problem_steps_participant_id_participants")
        ),
        sa.ForeignKeyConstraint(["problem_id"], ["problems.id"], name=op.f("fk_problem_steps_problem_id_problems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_steps")),
    )
    with op.batch_alter_table("problem_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_steps_problem_id"), ["problem_id"], unique=False)

    op.create_table(
        "problem_step_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"], ["problem_steps.id"], name=op.f("fk_problem_step_files_step_id_problem_steps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_step_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_problem_step_files_stored_name")),
    )
    with op.batch_alter_table("problem_step_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_step_files_step_id"), ["step_id"], unique=False)

    op.create_table(
        "suggestion_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggestion_id"], ["suggestions.id"], name=op.f("fk_suggestion_files_suggestion_id_suggestions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_suggestion_files_stored_name")),
        sa.UniqueConstraint("suggestion_id", name=op.f("uq_suggestion_files_suggestion_id")),
    )

    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reporter_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "class",
                sa.Enum(
                    "unit",
                    "office",
                    "reserve",
                    name="problem_class",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=False,
                server_default="unit",
            )
        )
        batch_op.add_column(sa.Column("pushed_by", sa.String(length=64), nullable=True))

    # Number the problems already there: per year of finding, in the order found (then by id).
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, found_on FROM problems ORDER BY found_on, id")).all()
    last = {}
    for problem_id, found_on in rows:
        year = found_on.year if hasattr(found_on, "year") else int(str(found_on)[:4])
        last[year] = last.get(year, 0) + 1
        conn.execute(
            sa.text("UPDATE problems SET year = :y, seq = :s WHERE id = :i"),
            {"y": year, "s": last[year], "i": problem_id},
        )
    for year, n in last.items():
        conn.execute(sa.text("INSERT INTO ledger_counters (year, last) VALUES (:y, :n)"), {"y": year, "n": n})

    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.alter_column("year", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("class", existing_type=sa.String(length=24), server_default=None)
        batch_op.create_index(batch_op.f("ix_problems_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_problems_year_seq"), ["year", "seq"])
        batch_op.create_check_constraint(op.f("ck_problems_seq_range"), "seq >= 1 AND seq <= 9999")
        batch_op.create_foreign_key(
            batch_op.f("fk_problems_reporter_id_participants"), "participants", ["reporter_id"], ["id"]
        )

    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "suggestion", "report", name="suggestion_kind", native_enum=False, create_constraint=True, length=24
                ),
                nullable=False,
                server_default="suggestion",
            )
        )
        batch_op.add_column(sa.Column("happened_on", sa.Date(), nullable=True))
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=24), server_default=None)
        batch_op.create_index(batch_op.f("ix_suggestions_participant_id"), ["participant_id"], unique=False)
        batch_op.create_check_constraint(
            op.f("ck_suggestions_invalid_has_reason"), "status <> 'invalid' OR screen_note IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_suggestions_problem_only_if_valid"), "problem_id IS NULL OR status = 'valid'"
        )

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_participants_participant_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_participants_participant_kind"), "kind IN ('informant', 'linkage', 'expert')"
        )
    # --- end H10a ---------------------------------------------------------------------------------------------

    # --- H10b: check points / establishment ---------------------------------------------------------------------
    # Check points: a filed item waits as `pending` until its unit reports an outcome; outcome date, waiver
    # reason, who changed it last; evidence files. Units' figure history and the vacancy pool (零空编).
    with op.batch_alter_table("check_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("waive_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", assessment.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f("ck_check_points_checkpoint_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_check_points_checkpoint_status"), "status IN ('pending', 'on_time', 'late', 'not_done', 'waived')"
        )
    op.create_table(
        "check_point_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_point_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", assessment.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_check_point_files_file_size_positive")),
        sa.ForeignKeyConstraint(
            ["check_point_id"], ["check_points.id"], name=op.f("fk_check_point_files_check_point_id_check_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_point_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_check_point_files_stored_name")),
    )
    with op.batch_alter_table("check_point_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_point_files_check_point_id"), ["check_point_id"], unique=False)

    figure_columns = [
        sa.Column(f"{name}_{when}", sa.Integer(), nullable=True)
        for name in ("establishment", "actual_staff", "leader_posts", "leaders_in_post")
        for when in ("before", "after")
    ]
    op.create_table(
        "establishment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "console", "pool", name="establishment_source", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        *figure_columns,
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_at", assessment.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_establishment_changes_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_establishment_changes")),
    )
    with op.batch_alter_table("establishment_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_establishment_changes_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "vacancy_pool_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "reclaim", "allocate", name="pool_entry_kind", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("result_row_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", assessment.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_vacancy_pool_entries_pool_seq_positive")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_vacancy_pool_entries_pool_amount_positive")),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_vacancy_pool_entries_pool_balance_nonneg")),
        sa.CheckConstraint(
            "(kind = 'reclaim' AND period_id IS NOT NULL) OR (kind = 'allocate' AND period_id IS NULL)",
            name=op.f("ck_vacancy_pool_entries_pool_reclaim_has_period"),
        ),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"], name=op.f("fk_vacancy_pool_entries_period_id_periods")),
        sa.ForeignKeyConstraint(
            ["result_row_id"], ["result_rows.id"], name=op.f("fk_vacancy_pool_entries_result_row_id_result_rows")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_vacancy_pool_entries_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacancy_pool_entries")),
        sa.UniqueConstraint("period_id", "unit_id", name="uq_vacancy_pool_reclaim_once"),
        sa.UniqueConstraint("seq", name=op.f("uq_vacancy_pool_entries_seq")),
    )
    # --- end H10b -----------------------------------------------------------------------------------------------


def downgrade():
    # --- H10b: check points / establishment ---------------------------------------------------------------------
    op.drop_table("vacancy_pool_entries")
    with op.batch_alter_table("establishment_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_establishment_changes_unit_id"))
    op.drop_table("establishment_changes")
    with op.batch_alter_table("check_point_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_point_files_check_point_id"))
    op.drop_table("check_point_files")
    # Items still waiting for an outcome were never reported done: they go back as not done.
    op.execute("UPDATE check_points SET status = 'not_done' WHERE status = 'pending'")
    with op.batch_alter_table("check_points", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_check_points_checkpoint_status"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_check_points_checkpoint_status"), "status IN ('on_time', 'late', 'not_done', 'waived')"
        )
        batch_op.drop_column("updated_by")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("waive_reason")
        batch_op.drop_column("done_on")
    # --- end H10b -----------------------------------------------------------------------------------------------

    # --- H10a ----------------------------------------------------------------------------------------------------
    # The steps and files first: on SQLite the batch below copies problems and drops the old table, which rows
    # referencing it would forbid.
    op.drop_table("suggestion_files")
    with op.batch_alter_table("problem_step_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_step_files_step_id"))
    op.drop_table("problem_step_files")
    with op.batch_alter_table("problem_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_steps_problem_id"))
    op.drop_table("problem_steps")
    op.drop_table("ledger_counters")

    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_suggestions_problem_only_if_valid"), type_="check")
        batch_op.drop_constraint(op.f("ck_suggestions_invalid_has_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_suggestions_suggestion_kind"), type_="check")
        batch_op.drop_index(batch_op.f("ix_suggestions_participant_id"))
        batch_op.drop_column("happened_on")
        batch_op.drop_column("kind")

    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_problems_reporter_id_participants"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_problems_seq_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_problems_problem_class"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_problems_year_seq"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_problems_reporter_id"))
        batch_op.drop_column("pushed_by")
        batch_op.drop_column("class")
        batch_op.drop_column("reporter_id")
        batch_op.drop_column("description")
        batch_op.drop_column("seq")
        batch_op.drop_column("year")

    # Experts go last: their links (access_keys), comments (problem_steps) and reports (problems.reporter_id)
    # reference them, and PostgreSQL enforces those foreign keys.
    op.execute("DELETE FROM access_keys WHERE participant_id IN (SELECT id FROM participants WHERE kind = 'expert')")
    op.execute("DELETE FROM participants WHERE kind = 'expert'")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_participants_participant_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_participants_participant_kind"), "kind IN ('informant', 'linkage')")
    # --- end H10a ---------------------------------------------------------------------------------------------
