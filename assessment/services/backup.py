"""Backups of the whole database while the app runs, and restoring one into a new, empty database.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page under one read lock, so the
  copy is consistent even while workers write (WAL). The backup is itself an SQLite database file.
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, the app keeps running); restored with
  `pg_restore --single-transaction`, so a failed restore leaves the target empty. pg_dump must be at least the
  server's major version: the one under /usr/lib/postgresql/<server major>/bin is preferred (Debian installs
  several side by side), else the one on PATH; an older one is refused with a message saying what to install.

A restore goes only into a database without any table (a new SQLite file, or a PostgreSQL database just
created with `createdb`): it never merges into or overwrites live data. A backup is restored into the engine
it came from. The backup is written to a temporary file beside FILE and renamed when complete, so FILE is
never half-written.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _url():
    return sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return url.database


def _atomic_target(out: str | os.PathLike):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    return out, Path(tmp)


# --- PostgreSQL tools ---------------------------------------------------------------------------------------


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string without the password, and the environment that carries the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _major(text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", text)
    if not match:
        raise BackupError(f"cannot read a version from {text!r}")
    return int(match.group(1))


def _server_major() -> int:
    return int(db.session.scalar(sa.text("SHOW server_version_num"))) // 10000


def pg_tool(name: str, server_major: int) -> str:
    """The pg_dump / pg_restore to use for a server of this major version (see the module docstring)."""
    candidates = [f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name)]
    for path in candidates:
        if path and os.path.exists(path):
            version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
            if _major(version.partition(")")[2]) >= server_major:
                return path
            raise BackupError(
                f"{name} {version.strip()} is older than the PostgreSQL server ({server_major}); install "
                f"postgresql-client-{server_major} (Debian) so that {candidates[0]} exists"
            )
    raise BackupError(
        f"{name} not found: install postgresql-client-{server_major} (Debian: apt-get install postgresql-client)"
    )


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


# --- backup -------------------------------------------------------------------------------------------------


def backup(out: str | os.PathLike) -> Path:
    """Write a consistent copy of the whole configured database to `out`; returns its path."""
    url = _url()
    out, tmp = _atomic_target(out)
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
            target = sqlite3.connect(tmp)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        elif url.get_backend_name() == "postgresql":
            tool = pg_tool("pg_dump", _server_major())
            dsn, env = _libpq(url)
            _run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={tmp}", f"--dbname={dsn}"], env)
        else:
            raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


# --- restore ------------------------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a backup made by `assessment backup` (neither an SQLite file nor a pg_dump custom archive)"
    )


def _tables() -> list[str]:
    return sa.inspect(db.engine).get_table_names()


def restore(path: str | os.PathLike) -> int:
    """Restore a backup into the configured database, which must have no table yet; the number of tables."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    kind = _kind(path)
    url = _url()
    backend = url.get_backend_name()
    if kind != backend:
        raise BackupError(
            f"{path} is a {kind} backup; the configured database is {backend}: "
            f"restore it into a {kind} database (ASSESSMENT_DATABASE_URL)"
        )
    existing = _tables()
    if existing:
        raise BackupError(
            f"the configured database is not empty ({len(existing)} tables): restore only into "
            "a new, empty database (a new SQLite file, or `createdb` for PostgreSQL)"
        )
    db.session.remove()
    db.engine.dispose()
    if backend == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            problems = source.execute("PRAGMA integrity_check").fetchone()[0]
            if problems != "ok":
                raise BackupError(f"{path} is damaged: {problems}")
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        tool = pg_tool("pg_restore", _server_major())
        db.session.remove()
        dsn, env = _libpq(url)
        _run(
            [
                tool,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={dsn}",
                str(path),
            ],
            env,
        )
    db.engine.dispose()
    return len(_tables())
