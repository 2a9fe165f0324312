"""End-to-end benchmark of scoring through the database: load a synthetic city, then time ``score_period``.

    python bench/score_db.py                                  # SQLite (temp file), then PostgreSQL; 1M ratings
    python bench/score_db.py --engine sqlite                  # one engine
    python bench/score_db.py --engine postgresql              # postgresql+psycopg://…@127.0.0.1/assessment_bench
    python bench/score_db.py --engine postgresql --ratings 10000000
    python bench/score_db.py --url postgresql+psycopg://user:pw@host/some_bench_db

Complements bench/score.py (the engine alone on in-memory frames) and uses its city generator: 80 units in
four categories, 400 raters answering 25 questions about every unit of their instrument (800,000 answers) and N
public ratings. The database is made fresh (SQLite: a new file; PostgreSQL: the public schema of the URL is
dropped and recreated — refused unless the database name contains "bench", or --force), migrated with init_db,
and loaded with bulk.bulk_insert (COPY on PostgreSQL). PostgreSQL then gets VACUUM ANALYZE, as autovacuum would
after a big load (--no-vacuum skips it). The load runs in a child process and is reported as setup, so the peak
memory printed for scoring is that of the scoring process alone.

Timed, in the real ``score_period`` (stages from its progress callback), each as wall clock and as CPU seconds
of this process (the machine is shared; on PostgreSQL the server's own CPU is in the wall time only):
  gather     gather_inputs, split: answers read, rating counts, assignments, other queries, the engine's input
             checks (scoring.Inputs) and the rest (answers put in order, categorical columns)
  compute    current scheme + scoring.compute (compute alone shown too)
  store      data fingerprint + the result version and its 80 rows (fingerprint shown apart)
  compare    against the last published version (none here)
then the commit, the whole score_period + commit, and its ratio to the 2-second aim (issue 11).

    python bench/score_db.py --url sqlite:////tmp/b.db --keep            # load once and keep the file
    python bench/score_db.py --url sqlite:////tmp/b.db --reuse --runs 3  # score the kept city again
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import procstat  # bench/procstat.py: CPU of the PostgreSQL backend
from score import make_city  # bench/score.py: the same synthetic city

DEFAULT_PG_URL = "postgresql+psycopg://assessment:assessment@127.0.0.1/assessment_bench"
PERIOD = "2026"
AIM_SECONDS = 2.0  # the aim for 1M ratings + 800k answers, on SQLite and PostgreSQL
#: Rows per bulk_insert call (bounded memory for 10M ratings).
CHUNK = 100_000


def make_app(url: str, instance: str):
    os.environ["ASSESSMENT_INSTANCE_PATH"] = instance  # keep create_app away from the project's instance/
    from assessment import create_app

    # DATABASE_URL too: create_app lets it override SQLALCHEMY_DATABASE_URI (e.g. from the environment).
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url, "SECRET_KEY": "bench"})


def fresh_database(url: str, force: bool):
    """An empty database at `url`: a new SQLite file, or PostgreSQL's public schema dropped and recreated."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database)
        if path.exists() and not force:
            sys.exit(f"{path} exists: remove it or pass --force")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    if "bench" not in (u.database or "") and not force:
        sys.exit(f"refusing to drop the public schema of '{u.database}' (name lacks 'bench'); pass --force")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def bench_definitions(questions):
    """The shipped instruments with bench/score.py's 25 questions each (ids, types, weights; themes cycled)."""
    from surveys import load_all, load_definition

    out = {}
    for key, defn in load_all().items():
        data = defn.to_dict()
        themes = list(data["themes"])
        qs = questions[questions["instrument"] == key].reset_index(drop=True)
        data["questions"] = [
            {
                "id": row.question,
                "theme": row.theme if row.theme in themes else themes[i % len(themes)],
                "type": row.type,
                "weight": float(row.weight),
                "text": f"测试题目 {row.question}",
            }
            for i, row in qs.iterrows()
        ]
        out[key] = load_definition(data, source=f"bench:{key}")
    return out


def load(url: str, instance: str, n_ratings: int, seed: int, vacuum: bool, force: bool):
    """Child process: fresh database, migrations, and the city loaded with bulk inserts; prints its timings."""
    from sqlalchemy import text

    from assessment.extensions import db
    from assessment.models import (
        Answer,
        Assignment,
        AssignmentState,
        BonusItem,
        Channel,
        CheckPoint,
        CheckPointStatus,
        CodeSystem,
        InstitutionScore,
        Period,
        PeriodState,
        Problem,
        ProblemSource,
        ProblemState,
        PublicRating,
        Rater,
        RaterGroup,
        Response,
        ResponseSource,
        ResponseVersion,
        Severity,
        Town,
        Unit,
        UnitKind,
    )
    from assessment.services.bulk import bulk_insert
    from assessment.services.database import init_db
    from assessment.services.instruments import current_instruments, sync_instruments

    def lap(label, start, note=""):
        print(f"  {label:<26} {time.perf_counter() - start:8.1f} s   {note}".rstrip(), flush=True)
        return time.perf_counter()

    t0 = t = time.perf_counter()
    fresh_database(url, force)
    app = make_app(url, instance)
    with app.app_context():
        init_db()
        t = lap("fresh schema + migrations", t)
        rng = np.random.default_rng(seed)
        units, codes, questions, answers, raw, checkpoints, problems, bonuses, institution = make_city(
            rng, 80, n_ratings
        )
        t = lap("generate (make_city)", t)

        session = db.session
        period = Period(
            name=PERIOD,
            state=PeriodState.OPEN,
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 12, 31),
            as_of=dt.date(2026, 12, 31),
        )
        towns = [Town(code=f"T{i:02d}", name=f"镇街{i}") for i in range(13)]
        unit_rows = [
            Unit(
                code=u.code,
                name=u.name,
                kind=UnitKind(u.kind),
                category=u.category,
                establishment=int(u.establishment),
                actual_staff=int(u.actual_staff),
            )
            for u in units.itertuples()
        ]
        session.add_all([period, *towns, *unit_rows])
        session.flush()
        unit_id = {u.code: u.id for u in unit_rows}
        sync_instruments(bench_definitions(questions), actor="bench")
        instrument_id = {key: ins.id for key, ins in current_instruments().items()}

        raters = answers.drop_duplicates("rater")[["rater", "group"]]
        own = dict(answers.loc[answers["instrument"] == "self", ["rater", "unit"]].drop_duplicates().values)
        rater_rows = []
        for i, (code, group) in enumerate(raters.itertuples(index=False)):
            rater_rows.append(
                Rater(
                    code=code,
                    name=f"评价人{i}",
                    group=RaterGroup(group),
                    town_id=towns[i % len(towns)].id if group == "grassroots" else None,
                    unit_id=unit_id[own[code]] if code in own else None,
                )
            )
        session.add_all(rater_rows)
        session.flush()
        rater_id = {r.code: r.id for r in rater_rows}

        # One assignment per (rater, instrument, unit); answers of one assignment are contiguous in the frame.
        keys = ["rater", "instrument", "unit"]
        assignment_of = answers.groupby(keys, sort=False).ngroup().to_numpy()
        plan = answers.drop_duplicates(keys)[keys]
        created = dt.datetime(2026, 11, 10, 1, 0, tzinfo=dt.UTC)
        submitted = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)

        def insert_ids(model, rows):
            before = session.scalar(db.select(db.func.coalesce(db.func.max(model.id), 0)))
            for start in range(0, len(rows), CHUNK):
                bulk_insert(model, rows[start : start + CHUNK])
            ids = session.scalars(db.select(model.id).where(model.id > before).order_by(model.id)).all()
            assert len(ids) == len(rows), model.__tablename__
            return ids

        assignment_ids = insert_ids(
            Assignment,
            [
                {
                    "period_id": period.id,
                    "rater_id": rater_id[r],
                    "unit_id": unit_id[u],
                    "instrument_id": instrument_id[ins],
                    "state": AssignmentState.SUBMITTED,
                    "created_at": created,
                }
                for r, ins, u in plan.itertuples(index=False)
            ],
        )
        response_ids = insert_ids(Response, [{"assignment_id": a, "current_version": 1} for a in assignment_ids])
        version_ids = np.array(
            insert_ids(
                ResponseVersion,
                [
                    {"response_id": r, "version": 1, "submitted_at": submitted, "source": ResponseSource.WEB}
                    for r in response_ids
                ],
            )
        )
        version_of = version_ids[assignment_of].tolist()
        values = [None if math.isnan(v) else v for v in answers["answer"].tolist()]
        qids = answers["question"].tolist()
        for start in range(0, len(values), CHUNK):
            stop = min(len(values), start + CHUNK)
            bulk_insert(
                Answer,
                [{"version_id": version_of[k], "question": qids[k], "value": values[k]} for k in range(start, stop)],
            )
        t = lap(
            "raters/assignments/answers",
            t,
            f"{len(rater_rows)} raters, {len(plan):,} assignments, {len(values):,} answers",
        )

        # Public ratings: bench/score.py's unit, level and default flag; the other columns as the demo city
        # fills them, so rows have a realistic width (the GROUP BY reads the table, not only the index).
        rng2 = np.random.default_rng(seed + 1)
        ids_of_unit = np.array([unit_id[c] for c in codes])
        r_unit = raw["unit"].to_numpy()
        r_level = raw["level"].to_numpy()
        r_default = raw["is_default"].to_numpy()
        start_ts = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
        stamps = np.sort(start_ts + rng2.integers(0, 364 * 86400, n_ratings))
        channel_ix = rng2.choice(3, size=n_ratings, p=[0.8, 0.14, 0.06])
        has_case = rng2.random(n_ratings) < 0.85
        del raw, answers, values, qids, version_of
        channels = (Channel.WINDOW, Channel.ONLINE, Channel.HOTLINE)
        windows = ("综合受理窗口", "审批服务窗口", "咨询服务窗口")
        items = ("不动产登记", "社保业务办理", "营业执照办理", "公积金提取", "政策咨询")
        utc = dt.UTC
        for start in range(0, n_ratings, CHUNK):
            stop = min(n_ratings, start + CHUNK)
            cols = [a[start:stop].tolist() for a in (r_unit, r_level, r_default, stamps, channel_ix, has_case)]
            rows = []
            for k, (u, lv, dflt, ts, ch, hc) in enumerate(zip(*cols, strict=False), start):
                rated = dt.datetime.fromtimestamp(ts, utc)
                rows.append(
                    {
                        "period_id": period.id,
                        "unit_id": int(ids_of_unit[u]),
                        "origin": "import",
                        "event_id": f"EV{k:010d}",
                        "level": lv,
                        "raw_code": lv,
                        "code_system": CodeSystem.STANDARD,
                        "channel": channels[ch],
                        "window": windows[k % 3] if ch == 0 else None,
                        "service_item": items[k % 5],
                        "staff_code": f"{codes[u]}-{k % 8:02d}" if ch == 0 else None,
                        "case_no": f"370782{ts // 86400:06d}{k:010d}" if hc else None,
                        "stage": "",
                        "rated_at": rated,
                        "received_at": rated + dt.timedelta(seconds=12),
                        "is_default": dflt,
                        "flags": ["default"] if dflt else None,
                        "flagged": False,
                        "real_name": hc,
                        "excluded": False,
                        "content_hash": f"{k:064x}",
                    }
                )
            bulk_insert(PublicRating, rows)
        t = lap("public ratings", t, f"{n_ratings:,} rows")

        pid = period.id
        session.add_all(
            [
                CheckPoint(
                    period_id=pid,
                    unit_id=unit_id[u],
                    item=f"问效点{i}",
                    due=dt.date(2026, 6, 30),
                    status=CheckPointStatus(s),
                )
                for i, (u, s) in enumerate(checkpoints[["unit", "status"]].itertuples(index=False))
            ]
        )
        for i, p in enumerate(problems.itertuples(index=False)):
            deadline = p.deadline.date()
            closed = None if p.closed_on is None or p.closed_on != p.closed_on else p.closed_on.date()
            session.add(
                Problem(
                    period_id=pid,
                    unit_id=unit_id[p.unit],
                    title=f"问题{i}",
                    source=ProblemSource.SUPERVISION,
                    severity=Severity(p.severity),
                    found_on=min(deadline, closed or deadline) - dt.timedelta(days=10),
                    deadline=deadline,
                    closed_on=closed,
                    state=ProblemState.CLOSED if closed else ProblemState.OPEN,
                )
            )
        session.add_all(
            [
                BonusItem(period_id=pid, unit_id=unit_id[u], reason=f"加分事项{i}", points=float(pts))
                for i, (u, pts) in enumerate(bonuses.itertuples(index=False))
            ]
        )
        session.add_all(
            [
                InstitutionScore(period_id=pid, unit_id=unit_id[u], score=float(s))
                for u, s in institution.itertuples(index=False)
            ]
        )
        session.commit()
        t = lap("ledger + commit", t)
        if vacuum and db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            t = lap("VACUUM ANALYZE", t)
        size = ""
        if db.engine.dialect.name == "postgresql":
            size = db.session.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        elif Path(db.engine.url.database).exists():
            size = f"{Path(db.engine.url.database).stat().st_size / 2**20:,.0f} MB"
        db.engine.dispose()
    print(f"  {'load total':<26} {time.perf_counter() - t0:8.1f} s   (setup, not scoring; database {size})", flush=True)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _server_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) of a local PostgreSQL backend, or None when it cannot be read."""
    found = procstat.process(pid)
    return found.seconds if found is not None else None


def score(url: str, instance: str) -> tuple[dict, dict]:
    """Run score_period once in this process; the stage timings (seconds): wall clock, and CPU of this process."""
    import sqlalchemy.orm as sa_orm

    import scoring
    from assessment.extensions import db
    from assessment.services import gather
    from assessment.services import scoring as svc

    app = make_app(url, instance)
    t: dict[str, float] = defaultdict(float)
    c: dict[str, float] = defaultdict(float)
    stamps: dict[str, tuple[float, float]] = {}

    def add(name, start):
        wall, cpu = _clock()
        t[name] += wall - start[0]
        c[name] += cpu - start[1]

    def frame(query, columns):
        start = _clock()
        out = orig_frame(query, columns)
        if columns[-1] == "answer":
            return out  # the plain answers query inside _answer_arrays, timed there
        kind = "gather.ratings" if columns[-1] == "n" else "gather.other"
        add("gather.assignments" if "town" in columns else kind, start)
        return out

    def wrap(name, fn):
        def timed(*args, **kwargs):
            start = _clock()
            try:
                return fn(*args, **kwargs)
            finally:
                add(name, start)

        return timed

    orig_frame, orig_compute, orig_print = gather._frame, svc.scoring.compute, svc.data_fingerprint
    # Older trees (for a before/after on one database) read answers with _answer_rows and have no _driver_frame.
    answers_name = "_answer_arrays" if hasattr(gather, "_answer_arrays") else "_answer_rows"
    orig_answers, orig_inputs = getattr(gather, answers_name), scoring.Inputs
    orig_driver = getattr(gather, "_driver_frame", None)
    if orig_driver is not None:
        gather._driver_frame = wrap("gather.assignments", orig_driver)
    setattr(gather, answers_name, wrap("gather.answers", orig_answers))
    gather._frame = frame
    scoring.Inputs = wrap("inputs", orig_inputs)
    svc.scoring.compute = wrap("scoring.compute", orig_compute)
    svc.data_fingerprint = wrap("fingerprint", orig_print)
    try:
        with app.app_context():
            # Connect and configure the ORM's mappers outside the timing: a serving process has done both long
            # before anyone clicks 计算 (the first query of a fresh process pays ~0.3-0.6 s for the mappers).
            db.session.execute(db.select(1))
            sa_orm.configure_mappers()
            backend = None
            if db.engine.dialect.name == "postgresql":
                backend = db.session.scalar(db.text("SELECT pg_backend_pid()"))
            server_before = _server_cpu(backend)
            start = _clock()
            run = svc.score_period(
                PERIOD,
                actor="bench",
                progress=lambda done, total, label="": stamps.setdefault(label, _clock()),
            )
            end_score = _clock()
            db.session.commit()
            add("commit", end_score)
            server_after = _server_cpu(backend)
            if server_before is not None and server_after is not None:
                t["server_cpu"] = server_after - server_before
            for name, a, b in [
                ("score_period", start, end_score),
                ("gather", stamps["gather"], stamps["score"]),
                ("compute", stamps["score"], stamps["store"]),
                ("store", stamps["store"], stamps["compare"]),
                ("compare", stamps["compare"], stamps["done"]),
            ]:
                t[name], c[name] = b[0] - a[0], b[1] - a[1]
            t["flags"] = int(run.engine.units["review_flag"].sum())
            db.engine.dispose()
    finally:
        gather._frame, svc.scoring.compute, svc.data_fingerprint = orig_frame, orig_compute, orig_print
        setattr(gather, answers_name, orig_answers)
        scoring.Inputs = orig_inputs
        if orig_driver is not None:
            gather._driver_frame = orig_driver
    assert scoring.compute is orig_compute
    return dict(t), dict(c)


def report(t: dict, c: dict):
    parts = ("gather.answers", "gather.ratings", "gather.assignments", "gather.other", "inputs")
    lines = [
        ("gather_inputs", "gather", ""),
        ("  answers query", "gather.answers", "one bytea of records (PostgreSQL), text per version (SQLite)"),
        ("  rating counts", "gather.ratings", "rating_counts (kept by triggers), per unit"),
        ("  assignments query", "gather.assignments", "with each one's counted version"),
        ("  other queries", "gather.other", "units, questions, ledger"),
        ("  input checks", "inputs", "scoring.Inputs: the engine's contract, checked"),
        ("  pandas fix-ups", None, "answers in order, categorical columns"),
        ("compute", "compute", "current scheme + load + scoring.compute"),
        ("  scoring.compute", "scoring.compute", ""),
        ("store", "store", "fingerprint + result + rows"),
        ("  fingerprint", "fingerprint", "data_fingerprint (hashes typed columns, sorts row hashes)"),
        ("compare", "compare", ""),
        ("score_period", "score_period", "the whole call"),
        ("commit", "commit", ""),
    ]
    print(f"{'':<20} {'wall':>9}   {'CPU':>7}   (CPU: this process; on PostgreSQL the server's work is not in it)")
    for label, key, note in lines:
        if key is None:
            wall = t["gather"] - sum(t.get(p, 0.0) for p in parts)
            cpu = c["gather"] - sum(c.get(p, 0.0) for p in parts)
        else:
            wall, cpu = t.get(key, 0.0), c.get(key, 0.0)
        print(f"{label:<20} {wall:8.3f} s {cpu:7.3f} s   {note}".rstrip())
    total = t["score_period"] + t["commit"]
    print(
        f"{'total':<20} {total:8.3f} s {c['score_period'] + c['commit']:7.3f} s   score_period + commit = "
        f"{total / AIM_SECONDS:.2f} x the {AIM_SECONDS:.0f} s aim"
    )
    if "server_cpu" in t:
        both = c["score_period"] + c["commit"] + t["server_cpu"]
        print(
            f"{'  server CPU':<20} {'':>10} {t['server_cpu']:7.3f} s   the PostgreSQL backend (/proc); with this "
            f"process {both:.3f} s of CPU"
        )


def bench_engine(url: str, tmp: str, args) -> float:
    """Load the city into `url` (child process), run score_period --runs times; the last run's total (s)."""
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    print(f"database {shown}: 80 units, 400 raters x 25 questions x every unit, {args.ratings:,} ratings")
    if args.reuse:
        print("  load skipped (--reuse: the database already holds the city)")
    else:
        child = multiprocessing.get_context("spawn").Process(
            target=load, args=(url, tmp, args.ratings, args.seed, args.vacuum, args.force)
        )
        child.start()
        child.join()
        if child.exitcode:
            sys.exit(f"load failed (exit code {child.exitcode})")
        load_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  {'load peak RSS':<26} {load_peak:8.0f} MiB (child process)")
    total = math.nan
    for run in range(1, args.runs + 1):
        print(f"score_period run {run}:")
        t, c = score(url, tmp)
        report(t, c)
        print(f"review flags: {t['flags']} of 80 units")
        total = t["score_period"] + t["commit"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:8.0f} MiB (scoring process: app, gather, compute, store)", flush=True)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="default: SQLite, then PostgreSQL, from one run",
    )
    parser.add_argument("--url", help="database URL (default: a temp SQLite file, or " + DEFAULT_PG_URL + ")")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="the PostgreSQL database of --engine both/postgresql")
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="score_period runs (each stores a new version)")
    parser.add_argument(
        "--no-vacuum", dest="vacuum", action="store_false", help="PostgreSQL: skip VACUUM ANALYZE after the load"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing SQLite file / drop a database whose name lacks 'bench'",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (and SQLite file)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --url: score a database an earlier run loaded (--keep), without loading it again",
    )
    args = parser.parse_args()
    if args.reuse and not args.url:
        parser.error("--reuse needs --url (the database an earlier run loaded)")

    tmp = tempfile.mkdtemp(prefix="score_db_")
    if args.url:
        urls = [("given", args.url)]
    else:
        engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
        urls = [(e, args.pg_url if e == "postgresql" else f"sqlite:///{tmp}/bench.db") for e in engines]
    totals = []
    try:
        for name, url in urls:
            totals.append((name, bench_engine(url, tmp, args)))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"{'engine':<12} {'ratings':>12} {'score_period + commit':>22} {'aim':>6} {'ratio':>6}")
    for name, total in totals:
        print(f"{name:<12} {args.ratings:>12,} {total:20.2f} s {AIM_SECONDS:5.1f}s {total / AIM_SECONDS:6.2f}")


if __name__ == "__main__":
    main()
