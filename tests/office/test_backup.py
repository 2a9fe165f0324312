"""`assessment backup` / `assessment restore`: a small city copied whole into an empty database."""

import sqlalchemy as sa

from assessment import create_app
from assessment.extensions import db
from tests.conftest import PG_URL


def _app(url, tmp_path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})


def _empty_target(tmp_path):
    """The URL of a new database without any table (a new SQLite file; a fresh PostgreSQL database)."""
    if not PG_URL:
        return f"sqlite:///{tmp_path / 'restored.db'}"
    url = sa.engine.make_url(PG_URL)
    name = f"{url.database}_restore"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        # Not DROP ... WITH (FORCE): a non-superuser may not terminate an autovacuum worker that a previous
        # restore woke in that database, and FORCE then fails. Our own sessions go first (waiting up to 5 s
        # each); a plain DROP asks autovacuum to stop by itself.
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = :name AND usename = current_user AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _snapshot(app):
    """Every table's row count, the latest result's CSV bytes and its rows."""
    from assessment.models import Result, ResultRow
    from assessment.services.exports import build_csv

    with app.app_context():
        tables = sorted(sa.inspect(db.engine).get_table_names())
        counts = {t: db.session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in tables}
        latest = db.session.execute(sa.select(Result).order_by(Result.id.desc()).limit(1)).scalar_one()
        csv_bytes = build_csv(latest)
        rows = [
            (r.unit_code, r.composite, r.rank, r.grade, r.leaves)
            for r in db.session.scalars(sa.select(ResultRow).filter_by(result_id=latest.id).order_by(ResultRow.id))
        ]
        db.session.remove()
        db.engine.dispose()
    return counts, csv_bytes, rows


def test_backup_then_restore_into_an_empty_database(app, city, runner, tmp_path):
    """Does a restored backup hold every table with the same row counts and the same latest result's bytes?"""
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0  # two versions: "latest" matters
    out = tmp_path / "backups" / "city.backup"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0 and not list(out.parent.glob("*.part"))
    before = _snapshot(app)
    assert before[0]["audit_log"] > 0 and before[0]["result_rows"] > 0 and before[0]["alembic_version"] == 1

    target = _app(_empty_target(tmp_path), tmp_path)
    result = target.test_cli_runner().invoke(args=["restore", str(out)])
    assert result.exit_code == 0, result.output
    after = _snapshot(target)
    assert after[0] == before[0]
    assert after[1] == before[1] and after[2] == before[2]

    # The restored database works: the audit log is still append-only there.
    with target.app_context():
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM audit_log"))
            deleted = True
        except sa.exc.DBAPIError:
            deleted = False
        db.engine.dispose()
    assert not deleted


def test_restore_never_overwrites_a_database_in_use(app, city, runner, tmp_path):
    """Is a restore into a database that has tables refused, leaving its data as it was?"""
    out = tmp_path / "city.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    counts = _snapshot_counts(app)
    result = runner.invoke(args=["restore", str(out)])
    assert result.exit_code != 0 and "not empty" in result.output
    assert _snapshot_counts(app) == counts


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    """Is a file that is neither an SQLite backup nor a pg_dump archive refused with a clear message?"""
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    target = _app(_empty_target(tmp_path), tmp_path)
    result = target.test_cli_runner().invoke(args=["restore", str(bogus)])
    assert result.exit_code != 0 and "is not a backup" in result.output
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "missing.backup")])
    assert result.exit_code != 0 and "no such file" in result.output
    with target.app_context():
        db.engine.dispose()


def _snapshot_counts(app):
    with app.app_context():
        tables = sorted(sa.inspect(db.engine).get_table_names())
        counts = {t: db.session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in tables}
        db.session.remove()
    return counts
