"""Benchmark of the device API against a running gunicorn server on 127.0.0.1, with its two baselines.

    python bench/ingest.py                                  # SQLite in a temporary folder, then PostgreSQL
    python bench/ingest.py --engines sqlite                 # one engine
    python bench/ingest.py --database-url postgresql+psycopg://USER:PW@127.0.0.1/assessment_api_bench

Prints, from one run (rounds of the four runs below, alternating, then the medians: the machines are shared):
  1. ratings per second posted in batches of 1000 (POST /api/v1/ratings);
  2. the baseline for 1: raw DBAPI executemany of the same rows into the same database engine, 1000 a commit;
  3. requests per second of single-rating posts;
  4. the baseline for 3: requests per second of GET /api/v1/health (a trivial JSON endpoint that asks the
     database one `SELECT 1`), same app, same server, same client;
and the two ratios (aims: single/health >= 0.7, batches/raw >= 0.8), on SQLite and on PostgreSQL one after the
other (--engines), ending with one table of the ratios per engine. With the Python client it also prints the
CPU milliseconds per request of 3 and 4 (server, database server, client), the single/health ratio that CPU
alone would give, and the share of the cores each kept busy: the two parts of the measured ratio. Every loop
is bounded (by seconds and by count) and talks only to 127.0.0.1. The load comes from `wrk` when it is
installed (apt-get install wrk), else from Python threads.

A PostgreSQL URL must name a database whose name ends in "_bench": its public schema is dropped and rebuilt.
The per-device rate limit is raised for the run (the bench posts far faster than any one real device).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from procstat import processes  # noqa: E402  (bench/procstat.py)

from assessment.timefmt import CST  # noqa: E402

HOST = "127.0.0.1"
N_DEVICES = 64
SPACING = 37  # seconds between two ratings of one device: no burst is flagged, as in real traffic


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wipe_database(url: str) -> None:
    """Empty a benchmark database: a SQLite file is deleted; a PostgreSQL database's public schema is dropped and
    made again, refused (exit) unless the database's name ends in _bench."""
    import sqlalchemy as sa

    if url.startswith("sqlite"):
        Path(sa.engine.make_url(url).database).unlink(missing_ok=True)
        return
    name = sa.engine.make_url(url).database or ""
    if not name.endswith("_bench"):
        sys.exit(f"refusing to wipe database '{name}': use one whose name ends in _bench")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def prepare_database(url: str | None, folder: Path) -> tuple[str, list[str]]:
    """Create the schema, one unit, an open period around today and N_DEVICES devices; return (url, keys)."""

    if url is None:
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        wipe_database(url)
    os.environ["ASSESSMENT_INSTANCE_PATH"] = str(folder)
    from assessment import create_app
    from assessment.extensions import db
    from assessment.models import Period, PeriodState, Unit, UnitKind
    from assessment.services.database import init_db
    from assessment.services.ratings.devices import register_device

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        init_db()
        today = datetime.now(CST).date()
        db.session.add(Unit(code="B01", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门"))
        db.session.add(
            Period(
                name="BENCH",
                starts_on=today - timedelta(days=700),
                ends_on=today + timedelta(days=1),
                as_of=today,
                state=PeriodState.OPEN,
            )
        )
        db.session.flush()
        keys = [register_device("B01", f"{i + 1}号窗口", actor="bench")[1] for i in range(N_DEVICES)]
        db.session.commit()
        db.engine.dispose()
    return url, keys


def start_server(
    url: str, folder: Path, port: int, workers: int, threads: int, secret: str = "bench"
) -> subprocess.Popen:
    """gunicorn (gthread) on HOST:port serving the app on `url`, once /api/v1/health answers; shared by the
    benches that need a live server (ingest, survey_load, export). The API's rate brake is opened wide."""
    env = dict(
        os.environ,
        ASSESSMENT_DATABASE_URL=url,
        ASSESSMENT_INSTANCE_PATH=str(folder),
        ASSESSMENT_SECRET_KEY=secret,
        ASSESSMENT_API_RATE_PER_SECOND="1000000",
        ASSESSMENT_API_RATE_BURST="1000000",
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--bind",
        f"{HOST}:{port}",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
        "assessment:create_app()",
    ]
    process = subprocess.Popen(command, cwd=str(ROOT), env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    sys.exit("gunicorn did not start")


def stop_server(process: subprocess.Popen):
    """Stop the gunicorn we started (its own process group), and nothing else."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def rating_body(device: int, n: int, slot: int, base: datetime, rnd: random.Random) -> dict:
    """A device's rating number n at time slot `slot` (SPACING seconds apart): mostly top levels, ~2% bad
    (they open cases), 60% with a case number."""
    r = rnd.random()
    level = 5 if r < 0.85 else 4 if r < 0.95 else 3 if r < 0.98 else 2 if r < 0.99 else 1
    body = {
        "event_id": f"b{device}-{n}",
        "level": level,
        "rated_at": (base + timedelta(seconds=SPACING * slot)).isoformat(),
        "service_item": "企业开办",
        "staff_code": f"B01-{device:02d}-{n % 8}",
    }
    if rnd.random() < 0.6:
        body["case_no"] = f"370782{device:03d}{n:09d}"
    return body


# --- load from Python threads (batches, and the fallback for the request-rate runs) -----------------------


#: Requests per client connection before it is closed and opened again. A keep-alive connection stays with
#: the gunicorn worker that accepted it, and a handful of connections held for a whole run can leave one
#: worker with twice the other's share (seen here: one worker 3.5 s of CPU, the other 1.7 s, and the run's
#: rate down by a quarter). Hundreds of devices, each posting now and then, spread over the workers; so do
#: connections opened again every so often. The connect itself (loopback) is a small fraction of 50 requests.
REQUESTS_PER_CONNECTION = 50


def run_threads(port, n_threads, seconds, max_requests, make_request):
    """Send requests from n_threads keep-alive connections (each opened again every REQUESTS_PER_CONNECTION
    requests) until time runs out or each thread has sent its share of max_requests; returns (done, elapsed)."""
    stop_at = time.monotonic() + seconds
    done = [0] * n_threads
    per_thread = max_requests // n_threads
    errors = []

    def worker(t):
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        k = 0
        while time.monotonic() < stop_at and k < per_thread:
            method, path, body, headers, weight = make_request(t, k)
            if k and k % REQUESTS_PER_CONNECTION == 0:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=120)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                errors.append((response.status, payload[:200]))
                break
            done[t] += weight(payload) if callable(weight) else weight
            k += 1
        conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    if errors:
        sys.exit(f"requests failed: {errors[:3]}")
    return sum(done), elapsed


def bench_batches(port, keys, seconds, n_threads, base, round_no):
    """Ratings per second in batches of 1000, each thread posting new ratings for its own devices (the bodies
    are built before the clock starts)."""
    rnd = random.Random(round_no)
    per_thread = 30
    per_device = len(keys) // n_threads
    bodies = {}
    for t in range(n_threads):
        for k in range(per_thread):
            device = t * per_device + k % per_device
            first = (round_no * per_thread + k) * 1000  # unique per (thread, round, batch): no repeats
            batch = [rating_body(device, 10_000_000 + first + i, first + i, base, rnd) for i in range(1000)]
            bodies[t, k] = (device, json.dumps({"ratings": batch}).encode())

    def make(t, k):
        device, body = bodies[t, k]
        headers = {"Authorization": f"Bearer {keys[device]}", "Content-Type": "application/json"}
        return "POST", "/api/v1/ratings", body, headers, lambda payload: json.loads(payload)["accepted"]

    return run_threads(port, n_threads, seconds, n_threads * per_thread, make)


RAW_COLUMNS = [
    "period_id",
    "unit_id",
    "device_id",
    "origin",
    "event_id",
    "level",
    "raw_code",
    "code_system",
    "channel",
    "window",
    "service_item",
    "staff_code",
    "case_no",
    "stage",
    "comment",
    "rated_at",
    "received_at",
    "is_default",
    "content_hash",
    "flags",
    "flagged",
    "real_name",
    "excluded",
    "excluded_reason",
]


def raw_rows(count, base, first_event, ids, sqlite):
    """The rows the API would store for `count` ratings, as DBAPI parameter tuples (SQLite: times as text)."""
    rnd = random.Random(2)
    period_id, unit_id, device_id = ids
    now = datetime.now(UTC)

    def moment(value):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value

    rows = []
    for n in range(count):
        r = rating_body(999, first_event + n, n, base, rnd)
        rated = datetime.fromisoformat(r["rated_at"]).astimezone(UTC)
        case_no = r.get("case_no")
        values = {
            "period_id": period_id,
            "unit_id": unit_id,
            "device_id": device_id,
            "origin": f"d{device_id}",
            "event_id": f"raw-{first_event + n}",
            "level": r["level"],
            "raw_code": r["level"],
            "code_system": "standard",
            "channel": "window",
            "window": "1号窗口",
            "service_item": r["service_item"],
            "staff_code": r["staff_code"],
            "case_no": case_no and "R" + case_no,
            "stage": "",
            "comment": None,
            "rated_at": moment(rated),
            "received_at": moment(now),
            "is_default": False,
            "content_hash": f"{rnd.getrandbits(256):064x}",
            "flags": None,
            "flagged": False,
            "real_name": case_no is not None,
            "excluded": False,
            "excluded_reason": None,
        }
        rows.append(tuple(values[c] for c in RAW_COLUMNS))
    return rows


def bench_raw_insert(url, seconds, base, round_no):
    """Rows per second of DBAPI executemany into public_ratings, 1000 rows and one commit per batch."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = (
            conn.execute(sa.text("SELECT id FROM periods WHERE name = 'BENCH'")).scalar_one(),
            conn.execute(sa.text("SELECT id FROM units WHERE code = 'B01'")).scalar_one(),
            conn.execute(sa.text("SELECT min(id) FROM devices")).scalar_one(),
        )
    sqlite = url.startswith("sqlite")
    placeholders = ", ".join(["?" if sqlite else "%s"] * len(RAW_COLUMNS))
    columns = ", ".join(f'"{c}"' for c in RAW_COLUMNS)
    sql = f"INSERT INTO public_ratings ({columns}) VALUES ({placeholders})"
    batches = [raw_rows(1000, base, 20_000_000 + 1000 * (30 * round_no + b), ids, sqlite) for b in range(30)]
    raw = engine.raw_connection()
    stop_at = time.monotonic() + seconds
    done = 0
    started = time.monotonic()
    try:
        for rows in batches:
            if time.monotonic() >= stop_at:
                break
            cursor = raw.cursor()
            cursor.executemany(sql, rows)
            raw.commit()
            cursor.close()
            done += len(rows)
    finally:
        raw.close()
        engine.dispose()
    return done, time.monotonic() - started


WRK_SINGLE = """
keys = {%(keys)s}
base = %(base)d
spacing = %(spacing)d
per_thread = %(per_thread)d
local counter = 1
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  n = 0
  tid = tonumber(tid)
end
function request()
  n = n + 1
  local slot = (n %% per_thread)
  local device = (tid - 1) * per_thread + slot + 1
  local seq = math.floor(n / per_thread)
  local when = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", base + seq * spacing)
  local level = 5
  if n %% 50 == 0 then level = 2 elseif n %% 7 == 0 then level = 4 end
  local body = '{"event_id":"s%(round)d-' .. tid .. '-' .. n .. '","level":' .. level ..
               ',"rated_at":"' .. when .. '","service_item":"企业开办","staff_code":"S' .. device ..
               '-' .. (n %% 8) .. '"}'
  local headers = {["Authorization"] = "Bearer " .. keys[device], ["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/v1/ratings", headers, body)
end
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\\n")
  end
end
"""


def wrk_rate(port, path, seconds, connections, threads, script=None):
    """Requests per second measured by wrk (non-2xx answers make the run fail)."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    command.append(f"http://{HOST}:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout
    if "Non-2xx" in text or out.returncode != 0 or "status " in out.stderr:
        sys.exit(f"wrk run failed:\n{text}\n{out.stderr[:500]}")
    line = next(line for line in text.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


def request_rates(port, keys, base, args, folder, use_wrk, round_no, cpu=None):
    """(trivial endpoint, single ratings) in requests per second, one run each; with the Python client, `cpu`
    gets the server's CPU ms per request of each run (health, then single)."""
    single_base = base + timedelta(days=200 + 20 * round_no)
    if use_wrk:
        script = folder / f"single{round_no}.lua"
        script.write_text(
            WRK_SINGLE
            % {
                "keys": ", ".join(f'"{k}"' for k in keys),
                "base": int(single_base.timestamp()),
                "spacing": SPACING,
                "per_thread": len(keys) // 2,
                "round": round_no,
            }
        )
        trivial = wrk_rate(port, "/api/v1/health", args.seconds, args.connections, 2)
        single = wrk_rate(port, "/api/v1/ratings", args.seconds, args.connections, 2, str(script))
        return trivial, single
    # The single ratings' bodies are built before the clock starts (as the batches' are): the client shares
    # the cores with the server, and building JSON per request would be counted against the posts only.
    rnd = random.Random(3)
    per_thread = 150 * args.seconds  # more than a thread can send in the run
    bodies = {}
    for t in range(args.connections):
        device = t % len(keys)
        headers = {"Authorization": f"Bearer {keys[device]}", "Content-Type": "application/json"}
        first = sum(1 for u in range(t) if u % len(keys) == device) * per_thread
        for k in range(per_thread):
            n = first + k + 1
            rating = rating_body(device, 30_000_000 + 1_000_000 * round_no + n, n, single_base, rnd)
            bodies[t, k] = ("POST", "/api/v1/ratings", json.dumps(rating).encode(), headers, 1)

    health = lambda t, k: ("GET", "/api/v1/health", None, {}, 1)  # noqa: E731
    trivial = python_rate(port, health, args.seconds, args.connections, cpu)
    single = python_rate(port, lambda t, k: bodies[t, k], args.seconds, args.connections, cpu, max_requests=len(bodies))
    return trivial, single


def python_rate(port, make, seconds, n_threads, cpu=None, max_requests=10_000_000):
    """Requests per second from n_threads Python clients; `cpu` (a list) gets the run's CPU ms per request
    (a dict: gunicorn, database, client) and "used": their CPU time as a share of the cores' time in the run."""
    before = cpu_snapshot() if cpu is not None and cpu_group else None
    done, elapsed = run_threads(port, n_threads, seconds, max_requests, make)
    if before is not None:
        after = cpu_snapshot()
        used = {name: 1000 * (after[name] - before[name]) / max(done, 1) for name in before}
        used["used"] = sum(after[name] - before[name] for name in before) / (elapsed * cores())
        cpu.append(used)
    return done / elapsed


#: What is measured: the process group of the gunicorn (its CPU time is read from /proc, Linux only) and
#: whether the database is PostgreSQL (whose server's processes are then measured too).
cpu_group = []


def cores() -> int:
    """The cores this bench (and the server it starts) may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_snapshot() -> dict:
    """CPU seconds so far of gunicorn (its process group), the database server (on PostgreSQL: the local
    server's processes, named postgres; SQLite works inside gunicorn) and this client process (all its
    threads)."""
    gunicorn = database = 0.0
    group, postgresql = cpu_group
    for found in processes():
        if found.group == group:
            gunicorn += found.seconds
        elif postgresql and found.name == "postgres":
            database += found.seconds
    return {"gunicorn": gunicorn, "database": database, "client": time.process_time()}


DEFAULT_PG_URL = "postgresql+psycopg://assessment:assessment@127.0.0.1/assessment_api_bench"
#: The issue's aims: single posts / health, batches / raw executemany.
AIM_SINGLE, AIM_BATCH = 0.7, 0.8


def bench_engine(url, args) -> dict:
    """Every run of the docstring on one engine (server started and stopped here); returns the median rates."""
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    process = None
    try:
        url, keys = prepare_database(url, folder)
        engine_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        port = free_port()
        process = start_server(url, folder, port, args.workers, args.threads)
        cpu_group[:] = [process.pid, engine_name == "PostgreSQL"]  # start_new_session: group id = gunicorn's pid
        base = datetime.now(CST).replace(microsecond=0) - timedelta(days=690)
        use_wrk = shutil.which("wrk") and not args.python_client
        print(
            f"engine {engine_name}; gunicorn gthread {args.workers} workers x {args.threads} threads on "
            f"{HOST}:{port}; {'wrk' if use_wrk else 'Python'} client, {args.connections} connections, "
            f"{args.seconds} s per run",
            flush=True,
        )

        # Warm up every worker, its caches and the database files (a few ratings of every device).
        run_threads(port, 4, 2, 200, lambda t, k: ("GET", "/api/v1/health", None, {}, 1))
        warm = random.Random(4)

        def warm_up(t, k):
            device = (t * 50 + k) % len(keys)
            body = json.dumps(rating_body(device, 40_000_000 + t * 50 + k, t * 50 + k, base, warm)).encode()
            return (
                "POST",
                "/api/v1/ratings",
                body,
                {"Authorization": f"Bearer {keys[device]}", "Content-Type": "application/json"},
                1,
            )

        run_threads(port, 4, 5, 200, warm_up)

        # The machines are shared: the runs alternate, round after round, and the medians are compared.
        rates = {"batch": [], "raw": [], "single": [], "trivial": []}
        cpu = []  # server CPU ms per request: health, single, health, single, ...
        for round_no in range(args.rounds):
            trivial, single = request_rates(port, keys, base, args, folder, use_wrk, round_no, cpu)
            rates["trivial"].append(trivial)
            rates["single"].append(single)
            done, elapsed = bench_batches(port, keys, args.seconds, args.batch_clients, base, round_no)
            rates["batch"].append(done / elapsed)
            raw_done, raw_elapsed = bench_raw_insert(url, args.seconds, base, round_no)
            rates["raw"].append(raw_done / raw_elapsed)
            print(
                f"round {round_no + 1}: batches {done / elapsed:8.0f} ratings/s, "
                f"raw {raw_done / raw_elapsed:8.0f} rows/s, single {single:6.0f} req/s, "
                f"health {trivial:6.0f} req/s",
                flush=True,
            )
        medians = {k: statistics.median(v) for k, v in rates.items()}
        print(f"batches of 1000 (POST /api/v1/ratings): {medians['batch']:10.0f} ratings/s")
        print(f"raw executemany, same rows, same engine: {medians['raw']:10.0f} rows/s")
        print(f"single ratings (POST /api/v1/ratings):   {medians['single']:10.0f} requests/s")
        print(f"trivial endpoint (GET /api/v1/health):   {medians['trivial']:10.0f} requests/s", flush=True)
        if cpu:
            medians_cpu = {}
            for label, runs in (("single", cpu[1::2]), ("health", cpu[0::2])):
                median = medians_cpu[label] = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
                print(
                    f"CPU ms per request, {label} (medians): gunicorn {median['gunicorn']:.2f}, database server "
                    f"{median['database']:.2f}, client {median['client']:.2f}; their CPU {median['used']:.0%} of the "
                    f"{cores()} cores' time",
                    flush=True,
                )
            # The ratio split in two: what the CPU per request alone would give, and the share of the cores each
            # run kept busy (a single post that waits on a lock or the network leaves cores idle).
            single_cpu, health_cpu = (
                sum(medians_cpu[label][name] for name in ("gunicorn", "database", "client"))
                for label in ("single", "health")
            )
            print(
                f"single/health from the CPU per request alone: {health_cpu / single_cpu:.2f}; cores kept busy: "
                f"single {medians_cpu['single']['used']:.0%}, health {medians_cpu['health']['used']:.0%}",
                flush=True,
            )
        return {"engine": engine_name, **medians}
    finally:
        if process is not None:
            stop_server(process)
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="one engine only: this database (SQLite file or *_bench)")
    parser.add_argument(
        "--engines",
        default="sqlite,postgresql",
        help="engines to run one after the other (default both; PostgreSQL at "
        + DEFAULT_PG_URL
        + ", create it with scripts/postgres.sh assessment_api_bench)",
    )
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--seconds", type=int, default=4, help="length of each run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four runs (medians reported)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients, request rates")
    parser.add_argument("--batch-clients", type=int, default=4, help="concurrent clients posting batches")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk even when installed")
    args = parser.parse_args()

    if args.database_url:
        urls = [args.database_url]
    else:
        urls = [None if name == "sqlite" else DEFAULT_PG_URL for name in args.engines.split(",")]
    results = [bench_engine(url, args) for url in urls]
    print()
    print(f"{'engine':<12} {'single/health':>14} {'(aim)':>6} {'batches/raw':>12} {'(aim)':>6}")
    for r in results:
        print(
            f"{r['engine']:<12} {r['single'] / r['trivial']:14.2f} {AIM_SINGLE:6.1f} "
            f"{r['batch'] / r['raw']:12.2f} {AIM_BATCH:6.1f}"
        )


if __name__ == "__main__":
    main()
