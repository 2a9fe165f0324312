"""Load test of the raters' pages: many simulated raters opening, saving and submitting at once against
gunicorn with several workers, on SQLite or PostgreSQL.

    python bench/survey_load.py                                   # SQLite in a temporary folder
    python bench/survey_load.py --engine postgresql --database-url postgresql+psycopg://USER:PW@127.0.0.1/x_bench

Each simulated rater (a grassroots official rating --units units) does what a phone does:
  1. opens the personal link (GET /r/<token> → /rater/), fetches a CSRF token (GET /rater/csrf);
  2. answers the first question for every unit one by one, as the page's script does (POST /rater/answer,
     JSON, one request per answer) and sends every one of them a second time (a phone back online resends
     what it kept: each must be stored once);
  3. answers the other questions a page at a time with the save button that works without script
     (POST /rater/grassroots/q/<n>, every unit's answer of that question in one form);
  4. submits twice at the same moment from two connections (a double click, two tabs).
--concurrency raters run at once. Printed: requests per second, p50/p95 latency per kind of request and
overall, the HTTP statuses, and the stored versus expected submitted versions and answers (they must match
exactly: one version per assignment, every answer of every question). Figures are printed, never asserted.
Bounded by --raters and by --time-limit seconds (raters not started by then are left out of "expected");
talks only to 127.0.0.1.

A PostgreSQL URL must name a database whose name ends in "_bench": its public schema is dropped and rebuilt.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import HOST, free_port, start_server, stop_server  # noqa: E402  (bench/ingest.py: the one gunicorn starter)

SECRET = "bench-survey-load"
INSTRUMENT = "grassroots"


# --- the city ------------------------------------------------------------------------------------------------


def prepare_database(url: str | None, folder: Path, n_raters: int, n_units: int) -> tuple[str, list[dict], list]:
    """Schema, one town, n_units units, n_raters grassroots raters with assignments in an open period, and a
    personal link each. Returns (url, raters [{code, token, assignments}], question ids of the instrument)."""
    import sqlalchemy as sa

    if url is None:
        url = f"sqlite:///{folder / 'survey_bench.db'}"
    else:
        name = sa.engine.make_url(url).database or ""
        if not name.endswith("_bench"):
            sys.exit(f"refusing to wipe database '{name}': use one whose name ends in _bench")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(folder)
    from assessment import create_app
    from assessment.extensions import db
    from assessment.models import Assignment, Period, PeriodState, Rater, RaterGroup, Town, Unit, UnitKind
    from assessment.services import access
    from assessment.services.assignments import assign
    from assessment.services.database import init_db
    from assessment.services.responses import definition

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        init_db()
        year = date.today().year
        period = Period(
            name="BENCH",
            state=PeriodState.OPEN,
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            as_of=date(year, 12, 31),
        )
        town = Town(code="T01", name="密州街道")
        db.session.add_all([period, town])
        db.session.add_all(
            [
                Unit(code=f"U{i:03d}", name=f"市直单位{i}", kind=UnitKind.GOVERNMENT, category="政府部门")
                for i in range(1, n_units + 1)
            ]
        )
        db.session.flush()
        raters = [
            Rater(code=f"G{i:04d}", name=f"镇干部{i}", group=RaterGroup.GRASSROOTS, town_id=town.id)
            for i in range(1, n_raters + 1)
        ]
        db.session.add_all(raters)
        db.session.flush()
        assign(period, actor="bench")
        issued = access.issue(raters, period, actor="bench")
        out = []
        for item in issued:
            ids = (
                db.session.execute(
                    db.select(Assignment.id).where(Assignment.rater_id == item.holder.id).order_by(Assignment.id)
                )
                .scalars()
                .all()
            )
            out.append({"code": item.holder.code, "token": item.token, "assignments": ids})
        instrument = db.session.execute(db.select(Assignment)).scalars().first().instrument
        questions = [q.id for q in definition(instrument).questions]
        db.session.commit()
        db.engine.dispose()
    return url, out, questions


def stored_figures(url: str, folder: Path, rater_codes: list[str]) -> dict:
    """What the database holds for these raters: submitted assignments, versions, answers."""
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(folder)
    from assessment import create_app
    from assessment.extensions import db
    from assessment.models import Answer, Assignment, AssignmentState, Rater, Response, ResponseVersion

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        mine = db.select(Rater.id).where(Rater.code.in_(rater_codes))
        base = (
            db.select(db.func.count())
            .select_from(ResponseVersion)
            .join(Response)
            .join(Assignment)
            .where(Assignment.rater_id.in_(mine))
        )
        figures = {
            "submitted": db.session.scalar(
                db.select(db.func.count())
                .select_from(Assignment)
                .where(Assignment.rater_id.in_(mine), Assignment.state == AssignmentState.SUBMITTED)
            ),
            "versions": db.session.scalar(base),
            "answers": db.session.scalar(
                db.select(db.func.count())
                .select_from(Answer)
                .join(ResponseVersion)
                .join(Response)
                .join(Assignment)
                .where(Assignment.rater_id.in_(mine), Answer.value.is_not(None))
            ),
            "max_version": db.session.scalar(
                db.select(db.func.max(ResponseVersion.version))
                .join(Response)
                .join(Assignment)
                .where(Assignment.rater_id.in_(mine))
            ),
        }
        db.engine.dispose()
    return figures


# --- the server ----------------------------------------------------------------------------------------------


# --- a simulated rater ---------------------------------------------------------------------------------------


class Recorder:
    """Latency (seconds) and status of every request, by kind; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.statuses = Counter()

    def add(self, kind, seconds, status):
        with self.lock:
            self.times[kind].append(seconds)
            self.statuses[(kind, status)] += 1


class Browser:
    """One phone: a keep-alive connection and the session cookie (what a rater's browser keeps)."""

    def __init__(self, port, recorder, cookie=None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.recorder = recorder
        self.cookie = cookie

    def request(self, kind, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        start = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        self.recorder.add(kind, time.perf_counter() - start, response.status)
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1]
        return response.status, response.getheader("Location"), data

    def close(self):
        self.conn.close()


def rate(rater: dict, questions: list[str], port: int, recorder: Recorder, value_of) -> bool:
    """One rater's whole visit; True when it reached the submission."""
    phone = Browser(port, recorder)
    try:
        status, _, _ = phone.request("open link", "GET", f"/r/{rater['token']}")
        if status != 302:
            return False
        phone.request("home", "GET", "/rater/")
        _, _, body = phone.request("csrf", "GET", "/rater/csrf")
        token = json.loads(body)["token"]
        json_headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token}
        first = questions[0]
        for _ in range(2):  # the second round is the phone resending what it kept offline
            for aid in rater["assignments"]:
                payload = json.dumps({"assignment": aid, "question": first, "value": value_of(aid, first)})
                phone.request("answer (script)", "POST", "/rater/answer", payload, json_headers)
        form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for number, qid in enumerate(questions[1:], start=2):
            fields = {"csrf_token": token, "go": "next"}
            fields.update({f"a{aid}.{qid}": value_of(aid, qid) for aid in rater["assignments"]})
            phone.request(
                "save page (no script)", "POST", f"/rater/{INSTRUMENT}/q/{number}", urlencode(fields), form_headers
            )
        # A double click: two connections with the same session submit at the same moment.
        twin = Browser(port, recorder, cookie=phone.cookie)
        body = urlencode({"csrf_token": token, "confirm": "1", "confirm_same": "1"})
        barrier = threading.Barrier(2)

        def press(browser):
            barrier.wait()
            browser.request("submit", "POST", f"/rater/{INSTRUMENT}/submit", body, form_headers)

        clicks = [threading.Thread(target=press, args=(b,)) for b in (phone, twin)]
        for t in clicks:
            t.start()
        for t in clicks:
            t.join()
        twin.close()
        return True
    finally:
        phone.close()


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url", help="PostgreSQL URL (database name ending in _bench); default $ASSESSMENT_BENCH_DATABASE_URL"
    )
    parser.add_argument("--raters", type=int, default=40)
    parser.add_argument("--units", type=int, default=8, help="units each rater rates")
    parser.add_argument("--concurrency", type=int, default=16, help="raters at once")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=180, help="seconds; no rater starts after this")
    args = parser.parse_args()
    args.raters = max(1, min(args.raters, 2000))
    args.units = max(1, min(args.units, 80))

    url = None
    if args.engine == "postgresql":
        url = args.database_url or os.environ.get("ASSESSMENT_BENCH_DATABASE_URL")
        if not url:
            sys.exit("--engine postgresql needs --database-url (or ASSESSMENT_BENCH_DATABASE_URL)")
    folder = Path(tempfile.mkdtemp(prefix="survey_bench_"))
    process = None
    try:
        url, raters, questions = prepare_database(url, folder, args.raters, args.units)
        port = free_port()
        process = start_server(url, folder, port, args.workers, args.threads, secret=SECRET)
        recorder = Recorder()
        deadline = time.monotonic() + args.time_limit
        started, finished = [], []
        lock = threading.Lock()

        def value_of(aid, qid):  # deterministic and varied answers (5 = 非常满意 … 1; some 不了解)
            h = (aid * 31 + sum(map(ord, qid))) % 11
            return "na" if h == 0 else str(1 + h % 5)

        def run(rater):
            if time.monotonic() > deadline:
                return
            with lock:
                started.append(rater["code"])
            if rate(rater, questions, port, recorder, value_of):
                with lock:
                    finished.append(rater)

        print(
            f"engine {args.engine}: {len(raters)} raters × {args.units} units × {len(questions)} questions, "
            f"{args.concurrency} at once, gunicorn {args.workers} workers × {args.threads} threads"
        )
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(run, raters))
        elapsed = time.perf_counter() - t0

        all_times = [t for times in recorder.times.values() for t in times]
        print(f"\n{len(all_times)} requests in {elapsed:.1f} s: {len(all_times) / elapsed:.0f} requests/s")
        print(f"{'request':<24}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}")
        for kind, times in recorder.times.items():
            print(
                f"{kind:<24}{len(times):>7}{1000 * statistics.median(times):>9.1f}"
                f"{1000 * percentile(times, 0.95):>9.1f}"
            )
        print(
            f"{'all':<24}{len(all_times):>7}{1000 * statistics.median(all_times):>9.1f}"
            f"{1000 * percentile(all_times, 0.95):>9.1f}"
        )
        print(
            "statuses: " + ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(recorder.statuses.items()))
        )

        expected_versions = sum(len(r["assignments"]) for r in finished)
        expected_answers = sum(
            1 for r in finished for aid in r["assignments"] for q in questions if value_of(aid, q) != "na"
        )
        stored = stored_figures(url, folder, [r["code"] for r in finished])
        match = (stored["versions"], stored["submitted"], stored["answers"]) == (
            expected_versions,
            expected_versions,
            expected_answers,
        )
        print(f"\nraters started {len(started)}, finished {len(finished)} (of {len(raters)})")
        print(
            f"submitted versions stored {stored['versions']} / expected {expected_versions} "
            f"(assignments submitted {stored['submitted']}, highest version number {stored['max_version']})"
        )
        print(f"answers stored {stored['answers']} / expected {expected_answers}")
        print("stored = expected: " + ("yes, exactly once" if match else "NO — investigate"))
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
