"""rating_counts: an exact per-unit aggregate of scored public ratings, kept by triggers

Scoring needs, per unit, how many ratings of each level (and default flag) a period has; counting them with
a GROUP BY reads every rating (seconds at a million, ten times that at ten million). This table holds those
counts, kept by triggers on public_ratings in the writer's own transaction, so that every path — the device
API, imports, the demo city, exclusions, plain SQL — keeps it exact and scoring reads a few hundred rows.

PostgreSQL: statement-level triggers with transition tables (one grouped upsert per statement, so a COPY of a
million rows costs one aggregate query; rows are upserted in key order, so concurrent batches lock them in one
order). SQLite has only row-level triggers: one small upsert per row.

Decrements (delete, exclusion, a changed key) update an existing row and never create one, so that emptying
the tables in any order (the test suite) leaves no stray rows.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_KEY = "period_id, unit_id, level, is_default"
_MATCH = "c.period_id = d.period_id AND c.unit_id = d.unit_id AND c.level = d.level AND c.is_default = d.is_default"

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION rating_counts_insert() RETURNS trigger AS $$
    BEGIN
      INSERT INTO rating_counts AS c ({_KEY}, n)
      SELECT {_KEY}, count(*) FROM new_rows WHERE NOT excluded GROUP BY {_KEY} ORDER BY {_KEY}
      ON CONFLICT ({_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION rating_counts_update() RETURNS trigger AS $$
    BEGIN
      WITH d AS (
        SELECT {_KEY}, sum(n) AS n FROM (
          SELECT {_KEY}, -count(*) AS n FROM old_rows WHERE NOT excluded GROUP BY {_KEY}
          UNION ALL
          SELECT {_KEY}, count(*) AS n FROM new_rows WHERE NOT excluded GROUP BY {_KEY}
        ) AS both_sides GROUP BY {_KEY} HAVING sum(n) <> 0
      )
      INSERT INTO rating_counts AS c ({_KEY}, n)
      SELECT {_KEY}, n FROM d ORDER BY {_KEY}
      ON CONFLICT ({_KEY}) DO UPDATE SET n = c.n + EXCLUDED.n;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION rating_counts_delete() RETURNS trigger AS $$
    BEGIN
      UPDATE rating_counts AS c SET n = c.n - d.n
      FROM (SELECT {_KEY}, count(*) AS n FROM old_rows WHERE NOT excluded GROUP BY {_KEY}) AS d
      WHERE {_MATCH};
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER public_ratings_count_insert AFTER INSERT ON public_ratings
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rating_counts_insert()""",
    """CREATE TRIGGER public_ratings_count_update AFTER UPDATE ON public_ratings
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION rating_counts_update()""",
    """CREATE TRIGGER public_ratings_count_delete AFTER DELETE ON public_ratings
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rating_counts_delete()""",
]

_ADD_NEW = (
    f"INSERT INTO rating_counts ({_KEY}, n) SELECT NEW.period_id, NEW.unit_id, NEW.level,"
    f" NEW.is_default, 1 WHERE NOT NEW.excluded ON CONFLICT ({_KEY}) DO UPDATE SET n = n + 1;"
)
_TAKE_OLD = (
    "UPDATE rating_counts SET n = n - 1 WHERE NOT OLD.excluded AND period_id = OLD.period_id"
    " AND unit_id = OLD.unit_id AND level = OLD.level AND is_default = OLD.is_default;"
)
SQLITE = [
    f"""CREATE TRIGGER public_ratings_count_insert AFTER INSERT ON public_ratings
        BEGIN {_ADD_NEW} END""",
    f"""CREATE TRIGGER public_ratings_count_update
        AFTER UPDATE OF period_id, unit_id, level, is_default, excluded ON public_ratings
        BEGIN {_TAKE_OLD} {_ADD_NEW} END""",
    f"""CREATE TRIGGER public_ratings_count_delete AFTER DELETE ON public_ratings
        BEGIN {_TAKE_OLD} END""",
]


def upgrade():
    op.create_table(
        "rating_counts",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["period_id"], ["periods.id"], name=op.f("fk_rating_counts_period_id_periods")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_rating_counts_unit_id_units")),
        sa.PrimaryKeyConstraint("period_id", "unit_id", "level", "is_default", name=op.f("pk_rating_counts")),
    )
    op.execute(
        f"INSERT INTO rating_counts ({_KEY}, n) SELECT {_KEY}, count(*) FROM public_ratings"
        f" WHERE NOT excluded GROUP BY {_KEY}"
    )
    for statement in POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade():
    for name in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER IF EXISTS public_ratings_count_{name}"
            + (" ON public_ratings" if op.get_bind().dialect.name == "postgresql" else "")
        )
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS rating_counts_{name}()")
    op.drop_table("rating_counts")
