"""The evaluation platform's Flask application (机关职能运行监管评价平台)."""

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    """Build the app: defaults, instance/config.py, ASSESSMENT_* variables, then the test mapping."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("ASSESSMENT_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(app.instance_path, "assessment.db"),
        SQLALCHEMY_ENGINE_OPTIONS={},
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        #: Imports: bad rows listed in full (the rest are counted).
        IMPORT_MAX_ERRORS_SHOWN=200,
        #: Imports: the largest XLSX sheet read (data rows, columns), checked from the sheet's dimension before
        #: it is read: a small file can expand to millions of cells.
        IMPORT_MAX_ROWS=2_000_000,
        IMPORT_MAX_COLUMNS=64,
        #: Device API: ratings per batch, requests a second and burst per device, largest body, how long a
        #: checked key / the open period / a device's last contact is trusted before the database is asked again.
        API_BATCH_LIMIT=1000,
        API_RATE_PER_SECOND=5.0,
        API_RATE_BURST=60.0,
        API_MAX_BODY_BYTES=8 * 1024 * 1024,
        API_AUTH_CACHE_SECONDS=2.0,
        API_PERIOD_CACHE_SECONDS=2.0,
        API_DEVICE_TOUCH_SECONDS=10.0,
        #: Ratings dated later than the server's clock by more than this (seconds) are refused (clocks drift).
        API_CLOCK_SKEW_SECONDS=300,
        #: Suspicion flag "burst": at least RATING_BURST_MIN top ratings from one device or staff code within
        #: RATING_BURST_SECONDS.
        RATING_BURST_MIN=5,
        RATING_BURST_SECONDS=120,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        #: Cookies only over HTTPS; plain-http local development sets ASSESSMENT_SESSION_COOKIE_SECURE=false.
        #: Where personal links point (the address raters reach, e.g. https://pj.example.gov.cn); unset: the
        #: request's host in the console, http://127.0.0.1:5000 on the command line (services/access.base_url).
        BASE_URL=None,
        #: Printed on invitation sheets and push sheets.
        OFFICE_NAME="市委机构编制委员会办公室",
        OFFICE_PHONE="",
        #: The largest evidence file or photo a person may attach (bytes).
        UPLOAD_MAX_BYTES=10 * 1024 * 1024,
        #: A computation claim older than this (minutes) was left by a worker that died and may be taken over.
        COMPUTATION_STALE_MINUTES=10,
        SESSION_COOKIE_SECURE=True,
        #: Sign-in (services/signin.py): failures a client may make before waiting, failures in a row that
        #: lock an account, for how long; and the per-process flood brake in front of the form (Flask-Limiter).
        SIGNIN_CLIENT_FREE=10,
        SIGNIN_LOCK_AFTER=5,
        SIGNIN_LOCK_MINUTES=15,
        SIGNIN_RATE_LIMIT="30 per minute",
        RATELIMIT_STORAGE_URI="memory://",
        #: Number of reverse proxies in front of the app (their X-Forwarded-For is trusted); 0: none.
        PROXY_FIX_X_FOR=0,
        #: Printed report: processes laying out pages in parallel (None: one per core), their nice level (they
        #: yield the cores to the request workers), and after how many seconds without a heartbeat a running
        #: report job counts as abandoned and is claimed again.
        REPORT_PROCESSES=None,
        REPORT_NICE=10,
        REPORT_JOB_STALE_SECONDS=300,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ASSESSMENT")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    from .api import hot_path
    from .security import register_security

    hot_path.install(app)  # the ratings post before Flask (api/hot_path.py), beneath the proxy fix
    register_security(app)

    from . import models  # noqa: F401  (registers the tables)
    from .services import ledger_numbers  # noqa: F401  (registers the ledger numbering flush hook)
    from .urls import IdConverter

    app.url_map.converters["id"] = IdConverter
    from .api import bp as api_bp
    from .errors import register_error_handlers
    from .office import bp as office_bp
    from .templating import register_template_helpers
    from .web import bp as web_bp

    app.register_blueprint(office_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(api_bp)
    register_error_handlers(app)
    register_template_helpers(app)
    from .transactions import register_commit_point

    register_commit_point(app)

    from .cli import register_commands

    register_commands(app)
    return app


def _instance_secret(instance_path):
    """Read the secret key kept in instance/ (never committed), creating it on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL and a busy timeout let several workers write to SQLite; foreign keys are off by default there."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
