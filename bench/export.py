"""Benchmark of the printed report: seconds per page, a cached download, and the device API meanwhile.

    python bench/export.py                       # demo city + a 200-unit city, SQLite in a temporary folder
    python bench/export.py --processes 2 --skip-api
    python bench/export.py --database-url postgresql+psycopg://USER:PW@127.0.0.1/assessment_export_bench

Prints:
  1. the demo city's report (summary + one page per unit): pages, wall seconds, wall seconds per page (aim:
     at most 0.1) and CPU seconds per page summed over all processes (what the page costs whatever the load;
     wall ≈ CPU / cores on an idle machine — the machines here are shared, so both are printed), then the
     units' zip and one unit's pages on demand (aim: under 1 s);
  2. the same report for a 200-unit city (the demo's rows copied onto 200 units in five categories);
  3. through a gunicorn server on 127.0.0.1: the time to first byte of a cached report download;
  4. the latency of a device posting one rating every 0.25 s: alone, while two viewers download the cached
     report in a loop, and while a report worker builds a new version's report and two viewers poll for it
     (aim: no post delayed by more than a second).

A PostgreSQL URL must name a database whose name ends in "_bench": its public schema is dropped and rebuilt.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import CST, HOST, free_port, rating_body, start_server, stop_server  # noqa: E402

VIEWER, PASSWORD = "bench-viewer", "bench-password-1"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's processes)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def make_app(url: str, folder: Path, nice: int):
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(folder)
    from assessment import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REPORT_NICE": nice})


def prepare(url: str | None, folder: Path, nice: int):
    """A fresh database with the demo city scored once, a viewer account and a device; returns (app, url, key)."""
    import sqlalchemy as sa

    if url is None:
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        name = sa.engine.make_url(url).database or ""
        if not name.endswith("_bench"):
            sys.exit(f"refusing to wipe database '{name}': use one whose name ends in _bench")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = make_app(url, folder, nice)
    from assessment.demo import load_demo
    from assessment.extensions import db
    from assessment.services.database import init_db
    from assessment.services.instruments import sync_instruments
    from assessment.services.ratings.devices import register_device
    from assessment.services.scoring import score_period
    from assessment.services.users import create_user

    with app.app_context():
        init_db()
        sync_instruments()
        db.session.commit()
        started = time.perf_counter()
        load_demo()
        db.session.commit()
        score_period("2026", actor="bench")
        db.session.commit()
        print(f"setup: demo city loaded and scored in {time.perf_counter() - started:.1f} s")
        create_user(VIEWER, PASSWORD, "viewer", actor="bench")
        from assessment.models import Unit

        code = db.session.scalar(sa.select(Unit.code).order_by(Unit.code).limit(1))
        key = register_device(code, "基准测试窗口", actor="bench")[1]
        db.session.commit()
    return app, url, key


def big_result(app, n_units: int = 200, categories: int = 5):
    """A result version for an n-unit city: the demo's rows copied onto new units, ranked within categories."""
    from assessment.extensions import db
    from assessment.models import Period, PeriodState, Result, ResultRow, Unit, UnitKind
    from assessment.services.scoring import latest_result

    with app.app_context():
        demo = latest_result(db.session.scalars(db.select(Period).filter_by(name="2026")).one())
        source = sorted(demo.rows, key=lambda r: r.unit_code)
        period = Period(
            name="bench200",
            starts_on=demo.computed_at.date(),
            ends_on=demo.computed_at.date(),
            as_of=demo.computed_at.date(),
            state=PeriodState.CLOSED,
        )
        db.session.add(period)
        db.session.flush()
        result = Result(
            period_id=period.id,
            version=1,
            scheme_id=demo.scheme_id,
            data_fingerprint=demo.data_fingerprint,
            extras=demo.extras,
            computed_by="bench",
        )
        db.session.add(result)
        db.session.flush()
        names = ["党群部门", "政府部门（经济发展类）", "政府部门（社会管理类）", "政府部门（执法监管类）", "事业单位"]
        rows = []
        for i in range(n_units):
            model = source[i % len(source)]
            unit = Unit(
                code=f"X{i + 1:03d}",
                name=f"{model.unit_name}{i // len(source) + 1}分部",
                kind=UnitKind.GOVERNMENT,
                category=names[i % categories],
            )
            db.session.add(unit)
            db.session.flush()
            rows.append(
                ResultRow(
                    result_id=result.id,
                    unit_id=unit.id,
                    unit_code=unit.code,
                    unit_name=unit.name,
                    category=unit.category,
                    base=model.base,
                    composite=model.composite,
                    rank=None,
                    grade=model.grade,
                    assessment_points=model.assessment_points,
                    establishment_action=model.establishment_action,
                    suggested_reduction=model.suggested_reduction,
                    approvals_suspended=model.approvals_suspended,
                    coverage=model.coverage,
                    deduction=model.deduction,
                    bonus=model.bonus,
                    leaves=model.leaves,
                    detail=model.detail,
                    review_flag=model.review_flag,
                )
            )
        for category in names:
            members = sorted((r for r in rows if r.category == category), key=lambda r: -(r.composite or 0))
            for rank, row in enumerate(members, start=1):
                row.rank = rank
        db.session.add_all(rows)
        db.session.commit()
        return result.id


def time_report(app, result_id: int, processes: int | None, label: str, zip_too: bool):
    from assessment.extensions import db
    from assessment.models import Result
    from assessment.services.exports import pdf

    with app.app_context():
        result = db.session.get(Result, result_id)
        import weasyprint  # noqa: F401  (its import is a one-off of the process, not a per-report cost)

        cpu, wall = cpu_seconds(), time.perf_counter()
        report = pdf.build_pdf(result, processes=processes)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(
            f"{label}: {report.pages} pages in {wall:.2f} s wall = {wall / report.pages:.3f} s/page "
            f"(aim ≤ 0.100); CPU {cpu / report.pages:.3f} s/page over all processes; "
            f"{len(report.content) / 1e6:.1f} MB"
        )
        if zip_too:
            started = time.perf_counter()
            units = pdf.build_units_zip(result, processes=processes)
            print(
                f"{label}: units' zip ({len(result.rows)} PDFs, {len(units) / 1e6:.1f} MB) in "
                f"{time.perf_counter() - started:.2f} s"
            )
            code = min(result.rows, key=lambda r: r.unit_code).unit_code
            pdf.build_unit_pdf(result, code)  # the first in a process loads the fonts
            started = time.perf_counter()
            pdf.build_unit_pdf(result, code)
            print(f"{label}: one unit's pages on demand in {time.perf_counter() - started:.2f} s (aim < 1)")
        return report


class Browser:
    """A signed-in viewer over one keep-alive connection (session cookie, CSRF token from the form)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.cookie = ""
        page = self.get("/office/login")[1].decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "username": VIEWER, "password": PASSWORD})
        status, _ = self.request("POST", "/office/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        if status not in (302, 303):
            sys.exit(f"viewer could not sign in ({status})")

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {}, Cookie=self.cookie)
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, response.read()

    def get(self, path):
        return self.request("GET", path)

    def first_byte(self, path) -> float:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        response = self.conn.getresponse()
        response.read(1)
        elapsed = time.perf_counter() - started
        response.read()
        if response.status != 200:
            sys.exit(f"{path}: {response.status}")
        return elapsed


def device_latencies(port, key, seconds, start_n) -> list[float]:
    """One rating every 0.25 s from one device; the seconds each POST took."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    rnd = random.Random(start_n)
    base = datetime.now(CST) - timedelta(days=1)
    out, n = [], start_n
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        body = json.dumps({"ratings": [rating_body(0, n, n % 2000, base, rnd)]}).encode()
        started = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/ratings",
            body=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        if response.status not in (200, 201):
            sys.exit(f"device post failed: {response.status}")
        n += 1
        time.sleep(max(0.0, 0.25 - out[-1]))
    return out


def viewers(port, path, stop: threading.Event, counts: list):
    def loop(i):
        browser = Browser(port)
        while not stop.is_set():
            browser.get(path)
            counts[i] += 1
            if stop.wait(0.05):
                break

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    return threads


def phase(label, port, key, seconds, start_n, path=None, during=None):
    stop, counts = threading.Event(), [0, 0]
    threads = viewers(port, path, stop, counts) if path else []
    if during:
        during()
    lat = device_latencies(port, key, seconds, start_n)
    stop.set()
    for thread in threads:
        thread.join()
    lat.sort()
    p95 = lat[int(0.95 * (len(lat) - 1))]
    print(
        f"device API, {label}: {len(lat)} posts, median {statistics.median(lat) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms" + (f"; viewer requests {sum(counts)}" if path else "")
    )
    return lat[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--processes", type=int, help="pool size (default: one per core)")
    parser.add_argument("--nice", type=int, default=10, help="nice level of the pool's processes")
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each device-latency phase")
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (shared machine)")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        folder = Path(tmp)
        app, url, key = prepare(args.database_url, folder, args.nice)
        from assessment.extensions import db
        from assessment.models import Result
        from assessment.services import jobs

        with app.app_context():
            demo_id = db.session.scalars(db.select(Result.id).order_by(Result.id)).first()
        report = time_report(app, demo_id, args.processes, "demo city", zip_too=True)
        time_report(app, big_result(app, args.units), args.processes, f"{args.units}-unit city", zip_too=False)
        with app.app_context():
            jobs.store_file(db.session.get(Result, demo_id), jobs.REPORT, report.content, report.pages)
            db.session.commit()
            db.engine.dispose()
        if args.skip_api:
            return
        port = free_port()
        server = start_server(url, folder, port, workers=2, threads=4)
        worker = None
        try:
            browser = Browser(port)
            browser.first_byte("/office/periods/2026/results.pdf")
            ttfb = sorted(browser.first_byte("/office/periods/2026/results.pdf") for _ in range(10))
            print(
                f"cached report download ({len(report.content) / 1e6:.1f} MB): time to first byte median "
                f"{statistics.median(ttfb) * 1000:.0f} ms, max {ttfb[-1] * 1000:.0f} ms"
            )
            idle = phase("alone", port, key, args.seconds, 1_000_000)
            cached = phase(
                "two viewers downloading the cached report",
                port,
                key,
                args.seconds,
                2_000_000,
                "/office/periods/2026/results.pdf",
            )

            def start_worker():
                nonlocal worker
                with app.app_context():
                    from assessment.services.scoring import score_period

                    score_period("2026", actor="bench")  # a new version: its report job is queued
                    db.session.commit()
                    db.engine.dispose()
                env = dict(
                    os.environ,
                    ASSESSMENT_DATABASE_URL=url,
                    ASSESSMENT_INSTANCE_PATH=str(folder),
                    ASSESSMENT_SECRET_KEY="bench",
                    ASSESSMENT_REPORT_NICE=str(args.nice),
                )
                worker = subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "assessment", "report-worker", "--once"],
                    cwd=str(ROOT),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

            building = phase(
                "a worker building a report, two viewers polling",
                port,
                key,
                args.seconds,
                3_000_000,
                "/office/periods/2026/results.pdf",
                during=start_worker,
            )
            print(
                f"device API: worst post {max(cached, building) * 1000:.0f} ms with viewers and the worker, "
                f"{idle * 1000:.0f} ms alone (aim: delayed by at most 1000 ms)"
            )
        finally:
            if worker is not None:
                started = time.perf_counter()
                worker.wait(timeout=600)  # let it finish the job (its pool exits with it)
                print(f"report worker finished {time.perf_counter() - started:.1f} s after the last phase")
            stop_server(server)


if __name__ == "__main__":
    main()
