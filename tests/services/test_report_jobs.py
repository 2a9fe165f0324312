"""Report jobs: one per result version, claimed by one worker at a time, taken over when a worker dies, failures
recorded — on SQLite and on PostgreSQL (FOR UPDATE SKIP LOCKED)."""

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import (
    CheckPoint,
    CheckPointStatus,
    JobState,
    Period,
    PeriodState,
    ReportFile,
    ReportJob,
    Result,
    Unit,
    UnitKind,
)
from assessment.models.base import utcnow
from assessment.services import jobs


@pytest.fixture
def two_versions(app, runner):
    """A two-unit city scored twice: two result versions, each with its queued report job."""
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        db.session.add(period)
        for code, statuses in {"U1": ["on_time", "late"], "U2": ["not_done", "on_time"]}.items():
            unit = Unit(code=code, name=f"单位{code}", kind=UnitKind.GOVERNMENT, category="政府部门")
            db.session.add(unit)
            db.session.flush()
            for i, status in enumerate(statuses):
                db.session.add(
                    CheckPoint(
                        period_id=period.id,
                        unit_id=unit.id,
                        item=f"事项{i}",
                        due=date(2026, 6, 30),
                        status=CheckPointStatus(status),
                    )
                )
        db.session.commit()
    for _ in range(2):
        result = runner.invoke(args=["score", "--period", "2026"])
        assert result.exit_code == 0, result.output


def _jobs(app):
    with app.app_context():
        return [
            (j.result_id, j.state, j.attempts, j.claimed_by)
            for j in db.session.scalars(sa.select(ReportJob).order_by(ReportJob.id))
        ]


def test_scoring_queues_one_job_per_version_and_enqueue_is_idempotent(app, two_versions):
    """Does each new result version queue its report once, however often it is asked for?"""
    assert [(state, attempts) for _, state, attempts, _ in _jobs(app)] == [(JobState.QUEUED, 0)] * 2
    with app.app_context():
        result = db.session.scalars(sa.select(Result).filter_by(version=1)).one()
        first = jobs.enqueue_report(result, "viewer")
        again = jobs.enqueue_report(result, "viewer")
        db.session.commit()
        assert first.id == again.id
    assert len(_jobs(app)) == 2


def test_claims_never_hand_one_job_to_two_workers(app, two_versions):
    """Do concurrent workers each get a different job (or none), never the same one?"""
    claimed, errors = [], []
    barrier = threading.Barrier(3)

    def worker(name):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                job = jobs.claim_next(name)
                claimed.append(None if job is None else job.id)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001  (reported below: a thread's exception would otherwise vanish)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    taken = [job for job in claimed if job is not None]
    assert sorted(taken) == [1, 2] and claimed.count(None) == 1
    states = _jobs(app)
    assert {state for _, state, _, _ in states} == {JobState.RUNNING}
    assert {holder for _, _, _, holder in states} <= {"w0", "w1", "w2"}


def test_a_dead_workers_job_is_taken_over_and_a_failure_is_recorded(app, two_versions, monkeypatch):
    """Is a running job without a heartbeat for the stale limit claimed again, and a job that fails marked
    failed with its error, left failed by a plain request and queued again when someone asks for a retry?"""
    with app.app_context():
        first = jobs.claim_next("dead")
        second = jobs.claim_next("alive")
        assert first.id != second.id and jobs.claim_next("third") is None
        first.heartbeat_at = utcnow() - timedelta(seconds=app.config["REPORT_JOB_STALE_SECONDS"] + 5)
        db.session.commit()
        again = jobs.claim_next("rescuer")
        assert again.id == first.id and again.claimed_by == "rescuer" and again.attempts == 2

        from assessment.services.exports import pdf

        def broken(*args, **kwargs):
            raise RuntimeError("no fonts")

        monkeypatch.setattr(pdf, "build_pdf", broken)
        failed = jobs.run_job(again)
        assert failed.state is JobState.FAILED and "no fonts" in failed.error
        result = db.session.get(Result, failed.result_id)
        assert jobs.stored_file(result, jobs.REPORT) is None
        assert jobs.enqueue_report(result).state is JobState.FAILED
        assert jobs.enqueue_report(result, retry=True).state is JobState.QUEUED
        db.session.commit()


def test_a_job_whose_worker_keeps_dying_is_given_up(app, two_versions):
    """Is a job whose worker stopped without a heartbeat MAX_ATTEMPTS times marked failed, not claimed again?"""
    with app.app_context():
        job = jobs.claim_next("dying")
        for attempt in range(2, jobs.MAX_ATTEMPTS + 1):
            job.heartbeat_at = utcnow() - timedelta(seconds=app.config["REPORT_JOB_STALE_SECONDS"] + 5)
            db.session.commit()
            taken = jobs.claim_next("rescuer")
            assert taken.id == job.id and taken.attempts == attempt
            job = taken
        job.heartbeat_at = utcnow() - timedelta(seconds=app.config["REPORT_JOB_STALE_SECONDS"] + 5)
        db.session.commit()
        other = jobs.claim_next("last")
        assert other is not None and other.id != job.id  # the other version's job, not the dying one
        given_up = db.session.get(ReportJob, job.id, populate_existing=True)
        assert given_up.state is JobState.FAILED and given_up.attempts == jobs.MAX_ATTEMPTS and given_up.error


def test_a_worker_whose_job_was_taken_over_neither_finishes_it_nor_stores_files(app, two_versions, monkeypatch):
    """When a slow worker's job is taken over while it builds, does it leave the job to the new holder
    (still running, not marked done) and store none of its files?"""
    from assessment.services.exports import pdf

    with app.app_context():
        job = jobs.claim_next("slow")

        def slow_build(result, progress=None, processes=None, context=None):
            db.session.execute(sa.update(ReportJob).where(ReportJob.id == job.id).values(claimed_by="rescuer"))
            db.session.commit()  # another worker claimed the job meanwhile
            return pdf.Pdf(b"%PDF-slow", 1)

        monkeypatch.setattr(pdf, "report_context", lambda result: {})
        monkeypatch.setattr(pdf, "build_pdf", slow_build)
        monkeypatch.setattr(pdf, "build_units_zip", lambda result, **kwargs: b"PK-slow")
        after = jobs.run_job(job)
        assert after.state is JobState.RUNNING and after.claimed_by == "rescuer" and after.finished_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportFile)) == 0


def test_pages_reloaded_on_a_failed_job_never_queue_it_again(app, client, auth, make_user, two_versions):
    """Do three GETs of a failed report (a viewer's and an operator's) leave the job failed with its attempts
    unchanged, show the failure, and does only the operator's explicit POST queue it again?"""
    with app.app_context():
        result = db.session.scalars(sa.select(Result).order_by(Result.version.desc())).first()
        job = jobs.job_for(result)
        job.state, job.attempts, job.error = JobState.FAILED, 1, "RuntimeError: no fonts"
        db.session.commit()
        version = result.version
    make_user("viewer", role="viewer")
    make_user("operator", role="operator")
    for name in ("viewer", "operator", "operator"):
        auth.login(name)
        page = client.get(f"/office/periods/2026/results.pdf?version={version}")
        text = page.get_data(as_text=True)
        assert page.status_code == 202 and "报告生成失败" in text and "http-equiv" not in text
        assert ("重新生成报告" in text) is (name == "operator")
        auth.logout()
    assert _job_of(app, version) == (JobState.FAILED, 1)
    auth.login("viewer")
    assert client.post(f"/office/periods/2026/results/{version}/report").status_code == 403
    auth.logout()
    auth.login("operator")
    zip_page = client.get(f"/office/periods/2026/results/units.zip?version={version}").get_data(as_text=True)
    assert 'name="file" value="units.zip"' in zip_page  # the retry form says which file was awaited
    retry = client.post(f"/office/periods/2026/results/{version}/report")
    assert retry.status_code == 302 and retry.headers["Location"].endswith(f"results.pdf?version={version}")
    assert _job_of(app, version) == (JobState.QUEUED, 0)
    retry = client.post(f"/office/periods/2026/results/{version}/report", data={"file": "units.zip"})
    assert retry.status_code == 302 and retry.headers["Location"].endswith(f"units.zip?version={version}")


def _job_of(app, version):
    with app.app_context():
        result = db.session.scalars(sa.select(Result).filter_by(version=version)).one()
        job = jobs.job_for(result)
        return job.state, job.attempts


def test_worker_builds_and_stores_the_files_once(app, runner, two_versions):
    """Does `report-worker --once` build each version's report and zip, store them, and stop when idle?"""
    result = runner.invoke(args=["report-worker", "--once", "--processes", "1"])
    assert result.exit_code == 0 and "Report jobs run: 2." in result.output, result.output
    assert {state for _, state, _, _ in _jobs(app)} == {JobState.DONE}
    with app.app_context():
        files = db.session.scalars(sa.select(ReportFile).order_by(ReportFile.result_id, ReportFile.name)).all()
        assert [(f.result_id, f.name) for f in files] == [
            (1, "report.pdf"),
            (1, "units.zip"),
            (2, "report.pdf"),
            (2, "units.zip"),
        ]
        report = files[0]
        assert report.content[:4] == b"%PDF" and report.pages == 4 + 2 and report.size == len(report.content)
    assert "Report jobs run: 0." in runner.invoke(args=["report-worker", "--once"]).output
