"""Fixtures shared by the app tests: a migrated database per test, on SQLite or PostgreSQL.

Set ASSESSMENT_TEST_DATABASE_URL (e.g. postgresql+psycopg://assessment:assessment@127.0.0.1/assessment_test)
to run the whole suite against PostgreSQL; SQLite files under pytest's tmp dir are the default.
"""

import os
import shutil
import threading

import pytest
import sqlalchemy as sa

from assessment import create_app
from assessment.extensions import db

PG_URL = os.environ.get("ASSESSMENT_TEST_DATABASE_URL")
BACKEND = "postgresql" if PG_URL else "sqlite"


def _migrate(url, instance_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    app.instance_path = str(instance_path)
    with app.app_context():
        from assessment.services.database import init_db

        init_db()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Run the migrations once per session: into a SQLite file to copy, or into the PostgreSQL test database."""
    base = tmp_path_factory.mktemp("db")
    if PG_URL:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(PG_URL, base)
        return PG_URL
    path = base / "template.db"
    _migrate(f"sqlite:///{path}", base)
    return path


_PG_ENGINE = {}


def _empty_postgres(url):
    """Delete every row and restart the ids (much faster than TRUNCATE, which rewrites files)."""
    engine = _PG_ENGINE.get(url)
    if engine is None:
        engine = _PG_ENGINE[url] = sa.create_engine(url, poolclass=sa.pool.NullPool)
    from assessment import models  # noqa: F401  (fills the metadata)

    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
        conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        for table in db.metadata.sorted_tables:
            if "id" in table.c:
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"))


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A fresh, migrated, empty database for one test."""
    if PG_URL:
        _empty_postgres(PG_URL)
        return PG_URL
    path = tmp_path / "assessment.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "test-secret",
                "WTF_CSRF_ENABLED": False,
            }
        )
    finally:
        del os.environ["ASSESSMENT_INSTANCE_PATH"]
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(app):
    """The app served by a threaded server on a free loopback port; yields its base URL."""
    from werkzeug.serving import make_server

    # Plain http, like `make run` (ASSESSMENT_SESSION_COOKIE_SECURE=false): cookies without Secure.
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create an office account: make_user("alice", role="operator") -> password."""

    def _make(username="office", role="admin", password="correct-horse-1", unit_code=None):
        from assessment.services.users import create_user

        with app.app_context():
            create_user(username, password, role, unit_code=unit_code, actor="test")
            db.session.commit()
        return password

    return _make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="office", password="correct-horse-1"):
        """Sign in through the real form (CSRF is off in TESTING unless a test turns it on)."""
        return self._client.post(
            "/office/login", data={"username": username, "password": password}, follow_redirects=False
        )

    def logout(self):
        return self._client.post("/office/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
