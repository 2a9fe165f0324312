"""One result computation at a time per period: quick clicks, several workers, a crashed worker."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    CheckPoint,
    CheckPointStatus,
    Computation,
    Period,
    PeriodState,
    Result,
    Unit,
    UnitKind,
)


def _small_period(app, name="2026"):
    with app.app_context():
        period = Period(
            name=name,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        unit = Unit(code="U1", name="市民政局", kind=UnitKind.GOVERNMENT, category="政府部门")
        db.session.add_all([period, unit])
        db.session.flush()
        db.session.add(
            CheckPoint(
                period_id=period.id, unit_id=unit.id, item="事项", due=date(2026, 6, 1), status=CheckPointStatus.ON_TIME
            )
        )
        db.session.commit()


def _count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_three_quick_clicks_store_one_version(app, login_as, monkeypatch):
    """Do three 计算新版本 clicks sent at once store one version, and are the other two told why?"""
    import scoring

    _small_period(app)
    real_compute = scoring.compute

    def slow_compute(*args, **kwargs):
        time.sleep(1.0)  # a computation that takes a moment, as on a real city
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(scoring, "compute", slow_compute)
    cookie = login_as("operator").get_cookie("session").value
    barrier = threading.Barrier(3)
    pages = [None] * 3

    def click(i):
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        pages[i] = client.post("/office/periods/2026/score", follow_redirects=True).get_data(as_text=True)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert _count(app, Result) == 1
    assert sum("已生成第 1 版评价结果。" in p for p in pages) == 1
    assert sum(("正在计算" in p or "刚刚已生成第 1 版" in p) for p in pages) == 2
    assert _count(app, Computation) == 0  # the claim went with the result
    # A later, separate click computes a new version as before.
    client = app.test_client()
    client.set_cookie("session", cookie)
    page = client.post("/office/periods/2026/score", follow_redirects=True).get_data(as_text=True)
    assert "已生成第 2 版评价结果。" in page and _count(app, Result) == 2


def test_a_running_computation_is_seen_by_the_command_line(app, runner):
    """While another worker's computation holds the period, does `assessment score` refuse it?"""
    from assessment.services import computing

    _small_period(app)
    with app.app_context():
        period = db.session.execute(sa.select(Period)).scalar_one()
        assert computing.claim(period, "worker-1", datetime.now(UTC)) is None
    result = runner.invoke(args=["score", "--period", "2026"])
    assert result.exit_code != 0 and "already running" in result.output and "worker-1" in result.output
    assert _count(app, Result) == 0


def test_a_failed_computation_gives_the_period_back(app, runner, monkeypatch):
    """When a computation fails, is its claim released so that the next one can run?"""
    import scoring

    _small_period(app)
    real_compute = scoring.compute

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(scoring, "compute", broken)
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code != 0
    assert _count(app, Computation) == 0
    monkeypatch.setattr(scoring, "compute", real_compute)
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    assert _count(app, Result) == 1


def test_a_stale_claim_is_taken_over(app, runner):
    """Is the claim of a worker killed mid-computation (older than the stale limit) taken over?"""
    _small_period(app)
    with app.app_context():
        period = db.session.execute(sa.select(Period)).scalar_one()
        db.session.add(
            Computation(
                period_id=period.id, started_by="dead-worker", started_at=datetime.now(UTC) - timedelta(hours=1)
            )
        )
        db.session.commit()
    result = runner.invoke(args=["score", "--period", "2026"])
    assert result.exit_code == 0, result.output
    assert _count(app, Result) == 1 and _count(app, Computation) == 0


def test_simultaneous_claims_give_the_period_to_one(app):
    """When eight workers claim the same period at the same instant, does exactly one get it?"""
    from assessment.services import computing

    _small_period(app)
    barrier = threading.Barrier(8)
    outcomes = []

    def claim(i):
        with app.app_context():
            period = db.session.execute(sa.select(Period)).scalar_one()
            barrier.wait()
            outcomes.append(computing.claim(period, f"worker-{i}", datetime.now(UTC)))
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 8
    assert sum(o is None for o in outcomes) == 1
    assert {o.reason for o in outcomes if o is not None} == {"running"}
    assert _count(app, Computation) == 1


def test_a_rolled_back_result_gives_the_period_back(app):
    """When the transaction that was to store the result rolls back, is the committed claim released too?"""
    from assessment.services import scoring as scoring_service

    _small_period(app)
    with app.app_context():
        scoring_service.score_period("2026", actor="operator")
        db.session.rollback()  # e.g. the commit failed, or the view raised after the computation returned
    assert _count(app, Result) == 0
    assert _count(app, Computation) == 0
