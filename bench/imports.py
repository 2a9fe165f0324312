"""Benchmark of `assessment import ratings` (check + write) against raw DBAPI executemany of the same rows.

    python bench/imports.py                           # 100,000 ratings, CSV, SQLite then PostgreSQL
    python bench/imports.py --rows 1000000            # the issue's size (aim: <= 45 s CSV on SQLite)
    python bench/imports.py --format xlsx --rows 100000
    python bench/imports.py --engines sqlite

For each engine: a fresh database (SQLite: a temp file; PostgreSQL: the public schema of --database-url, by
default postgresql+psycopg://assessment:…@127.0.0.1/assessment_import_bench, is dropped and rebuilt; the name
must end in _bench), one open period and
80 units; then
  1. run_import("ratings", FILE) as the CLI runs it (every row checked, then written; one commit), rows/s;
  2. the baseline: raw DBAPI executemany of the same rows (already converted, no checks) into public_ratings of
     another fresh database, 5000 rows a statement, one commit, rows/s;
and the ratio 1/2 (aim >= 0.5). Figures are printed, never asserted; the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessment.services.imports.kinds.rating_block import COLUMNS  # noqa: E402  (after the path)

DEFAULT_PG_URL = "postgresql+psycopg://assessment:assessment@127.0.0.1/assessment_import_bench"
PERIOD = "2026"
AIM = 0.5
CHANNELS = ("window", "online", "app", "hotline", "sms")


def make_file(folder: Path, n: int, fmt: str) -> Path:
    """A ratings file of `n` rows over 80 units in 2026 (about 1 in 10 bad, 1 in 20 default, some case numbers)."""
    header = list(COLUMNS)  # the rating file's columns, as the import reads them
    start = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rows = []
    for i in range(n):
        at = start + dt.timedelta(seconds=(i * 7919) % (360 * 86400))
        at = at.replace(hour=8 + at.hour % 10)  # office hours: no odd-hour flags
        rows.append(
            [
                f"EV{i:09d}",
                f"U{i % 80:03d}",
                str(1 if i % 10 == 0 else 4 if i % 7 == 0 else 5),
                CHANNELS[i % 5],
                at.isoformat(),
                "1" if i % 20 == 0 else "0",
                f"C{i:010d}" if i % 3 == 0 else "",
                "综合窗口" if i % 5 == 0 else "",
                "不动产登记",
                f"S{i % 40:02d}" if i % 2 else "",
            ]
        )
    if fmt == "csv":
        path = folder / "ratings.csv"
        with path.open("w", encoding="utf-8") as f:
            f.write(",".join(header) + "\n")
            for row in rows:
                f.write(",".join(row) + "\n")
        return path
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(header)
    for row in rows:
        ws.append(row)
    path = folder / "ratings.xlsx"
    wb.save(path)
    return path


def fresh_app(url: str, folder: Path):
    """An app on a fresh, migrated database with the period and 80 units."""
    from bench.ingest import wipe_database

    wipe_database(url)
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(folder)
    from assessment import create_app
    from assessment.extensions import db
    from assessment.models import Period, PeriodState, Unit, UnitKind
    from assessment.services.database import init_db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        init_db()
        db.session.add(
            Period(
                name=PERIOD,
                state=PeriodState.OPEN,
                starts_on=dt.date(2026, 1, 1),
                ends_on=dt.date(2026, 12, 31),
                as_of=dt.date(2026, 12, 31),
            )
        )
        db.session.add_all(
            [Unit(code=f"U{i:03d}", name=f"单位{i}", kind=UnitKind.GOVERNMENT, category="政府部门") for i in range(80)]
        )
        db.session.commit()
    return app


def bench_import(url: str, folder: Path, path: Path) -> float:
    from assessment.extensions import db
    from assessment.services.imports import run_import

    app = fresh_app(url, folder)
    stages = {}

    def progress(done, total, label):
        stages.setdefault(label, (time.perf_counter(), time.process_time()))

    with app.app_context():
        start, cpu_start = time.perf_counter(), time.process_time()
        report = run_import("ratings", path, PERIOD, actor="bench", progress=progress)
        db.session.commit()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(f"  import: {report.summary()}  {seconds:.1f} s (this process's CPU: {cpu:.1f} s)", flush=True)
        if "Writing" in stages:
            wall, used = stages["Writing"]
            print(
                f"    check {wall - start:.1f} s (CPU {used - cpu_start:.1f} s), "
                f"write and commit {start + seconds - wall:.1f} s (CPU {cpu_start + cpu - used:.1f} s)",
                flush=True,
            )
        db.engine.dispose()
    return seconds


def bench_raw(url: str, folder: Path, n: int) -> float:
    """Raw executemany of n converted rows into public_ratings (the rows are built before the clock starts)."""
    from assessment.extensions import db

    app = fresh_app(url, folder)
    with app.app_context():
        period_id = db.session.scalar(db.text("SELECT id FROM periods"))
        units = dict(db.session.execute(db.text("SELECT code, id FROM units")).all())
        sqlite = url.startswith("sqlite")
        now = dt.datetime.now(dt.UTC)
        columns = [
            "period_id",
            "unit_id",
            "origin",
            "event_id",
            "level",
            "raw_code",
            "code_system",
            "channel",
            "rated_at",
            "received_at",
            "is_default",
            "content_hash",
            "stage",
            "flagged",
            "real_name",
            "excluded",
            "case_no",
        ]
        rows = []
        for i in range(n):
            at = dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=(i * 7919) % (360 * 86400))
            moment = at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at
            received = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
            rows.append(
                (
                    period_id,
                    units[f"U{i % 80:03d}"],
                    "import",
                    f"EV{i:09d}",
                    5,
                    5,
                    "standard",
                    CHANNELS[i % 5],
                    moment,
                    received,
                    False,
                    f"{i:064x}",
                    "",
                    False,
                    i % 3 == 0,
                    False,
                    f"C{i:010d}" if i % 3 == 0 else None,
                )
            )
        marks = ", ".join(["?" if sqlite else "%s"] * len(columns))
        sql = f"INSERT INTO public_ratings ({', '.join(columns)}) VALUES ({marks})"
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            start = time.perf_counter()
            for k in range(0, n, 5000):
                cursor.executemany(sql, rows[k : k + 5000])
            raw.commit()
            seconds = time.perf_counter() - start
        finally:
            raw.close()
        db.engine.dispose()
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL, help="PostgreSQL; its name must end in _bench")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    results = []
    try:
        start = time.perf_counter()
        path = make_file(folder, args.rows, args.format)
        print(
            f"{args.rows:,} ratings as {args.format} ({path.stat().st_size / 2**20:.0f} MB) written in "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )
        for name in args.engines.split(","):
            url = f"sqlite:///{folder / 'bench.db'}" if name == "sqlite" else args.database_url
            print(f"engine {name}", flush=True)
            imported = bench_import(url, folder, path)
            raw = bench_raw(url, folder, args.rows)
            print(f"  raw executemany: {raw:.1f} s", flush=True)
            results.append((name, args.rows / imported, args.rows / raw, imported))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(f"{'engine':<12} {'import s':>9} {'import rows/s':>14} {'raw rows/s':>11} {'ratio':>6} {'(aim)':>6}")
    for name, imported, raw, seconds in results:
        print(f"{name:<12} {seconds:9.1f} {imported:14.0f} {raw:11.0f} {imported / raw:6.2f} {AIM:6.1f}")


if __name__ == "__main__":
    main()
