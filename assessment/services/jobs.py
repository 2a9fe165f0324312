"""Background report jobs: the printed report of a result version, built once, outside the request workers.

Why a jobs table and not a thread or an in-process queue: the office may run several app servers (gunicorn
workers on one or more machines) on one PostgreSQL. Report building is CPU-heavy (WeasyPrint lays out ~70 pages),
so it must not run in the workers that serve devices and raters, and it must run once per result version however
many viewers click at once. The database is the one thing every server shares, so the queue lives there:

- `enqueue_report` inserts at most one job per result version (a UNIQUE constraint decides races);
- `assessment report-worker` (any number, on any server) claims the oldest queued job with
  SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL — workers never wait on each other's row locks and never take
  the same job — and with a compare-and-set UPDATE on SQLite (which has one writer at a time, so the UPDATE that
  finds the job still queued wins);
- the worker renders the pages on the machine's cores (`exports.pdf`), stores the files in `report_files` and
  marks the job done; a job whose worker died (no heartbeat for `REPORT_JOB_STALE_SECONDS`) is claimed again, up to
  MAX_ATTEMPTS claims; a failed job stays failed until someone who may write results asks again.

No broker (Redis for RQ/Celery) is needed for one job per result version; the files sit beside the result they
belong to, so every server serves the same bytes.

Commits: the worker's functions commit themselves (`claim_next`, the progress heartbeats, `run_job`): the job row
is how other processes see the work, so each state change must be visible at once. Everything else only flushes.
"""

import hashlib
import io
import os
import socket
import time
import zipfile
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import JobState, ReportFile, ReportJob, Result
from ..models.base import utcnow

#: The files a report job builds.
REPORT = "report.pdf"
UNITS_ZIP = "units.zip"
#: Claims of one job before it is given up: a job whose worker dies every time (out of memory) is marked failed
#: instead of being taken over for ever.
MAX_ATTEMPTS = 3


def worker_name() -> str:
    """This process as a job's holder: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def job_for(result: Result) -> ReportJob | None:
    """The report job of a result version, if there is one."""
    return db.session.execute(db.select(ReportJob).filter_by(result_id=result.id)).scalar_one_or_none()


def enqueue_report(result: Result, actor: str | None = None, retry: bool = False) -> ReportJob:
    """Queue the building of the result version's report, once: an existing job is returned as it is.

    A failed job stays failed (a failure that always happens — a missing font, a template error — would
    otherwise rebuild the ~70-page report on every page reload) until someone who may write results asks for
    it again (`retry`, the pending page's POST): then it is queued with its attempts counted from zero.
    Concurrent callers race on the UNIQUE(result_id) constraint; the loser reads the winner's row. Flushes only.
    """
    job = job_for(result)
    if job is None:
        try:
            with db.session.begin_nested():
                job = ReportJob(
                    result_id=result.id, created_by=actor, state=JobState.QUEUED, attempts=0, done=0, total=0
                )
                db.session.add(job)
        except IntegrityError:
            job = job_for(result)
    elif retry and job.state is JobState.FAILED:
        job.state, job.error, job.done, job.total, job.attempts = JobState.QUEUED, None, 0, 0, 0
        db.session.flush()
    return job


def stored_file(result: Result, name: str) -> ReportFile | None:
    """A built file of the result version ("report.pdf", "units.zip"), or None until the job has built it."""
    return db.session.execute(db.select(ReportFile).filter_by(result_id=result.id, name=name)).scalar_one_or_none()


def unit_pdf(result: Result, row) -> bytes | None:
    """One unit's pages of the result version (`row` a ResultRow): cut from the stored units' zip when the worker
    has built it, else laid out now (one page, well under a second). None for a unit the result does not hold."""
    from .exports import build_unit_pdf
    from .exports.pdf import unit_file_name

    stored = stored_file(result, UNITS_ZIP)
    if stored is not None:
        with zipfile.ZipFile(io.BytesIO(stored.content)) as archive:
            if unit_file_name(row) in archive.namelist():
                return archive.read(unit_file_name(row))
    return build_unit_pdf(result, row.unit_code)


def store_file(
    result: Result, name: str, content: bytes, pages: int | None = None, seconds: float | None = None
) -> ReportFile:
    """Keep a built file for the result version (replacing an older build of the same name). Flushes only."""
    old = stored_file(result, name)
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    row = ReportFile(
        result_id=result.id,
        name=name,
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        pages=pages,
        seconds=seconds,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _stale_limit():
    seconds = current_app.config["REPORT_JOB_STALE_SECONDS"]
    return utcnow() - timedelta(seconds=seconds)


def claim_next(worker: str | None = None) -> ReportJob | None:
    """Claim the oldest queued job (or one whose worker died) for this worker and commit; None when idle. A job
    whose worker died MAX_ATTEMPTS times is marked failed first, not claimed again.

    PostgreSQL: the candidate row is locked with FOR UPDATE SKIP LOCKED, so concurrent workers each get a
    different job without waiting. SQLite ignores FOR UPDATE; there the UPDATE … WHERE state and attempts are
    what was just read is the claim (every claim bumps attempts): SQLite runs one writer at a time, so only one
    worker's UPDATE matches.
    """
    worker = worker or worker_name()
    stale = _stale_limit()
    given_up = (
        db.update(ReportJob)
        .where(
            ReportJob.state == JobState.RUNNING,
            ReportJob.heartbeat_at < stale,
            ReportJob.attempts >= MAX_ATTEMPTS,
        )
        .values(
            state=JobState.FAILED,
            finished_at=utcnow(),
            error=f"报告生成进程 {MAX_ATTEMPTS} 次中途停止（例如内存不足），已停止重试。",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(given_up)
    db.session.commit()
    candidates = (
        db.select(ReportJob.id, ReportJob.state, ReportJob.attempts)
        .where(
            db.or_(
                ReportJob.state == JobState.QUEUED,
                db.and_(ReportJob.state == JobState.RUNNING, ReportJob.heartbeat_at < stale),
            )
        )
        .order_by(ReportJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    for _ in range(5):
        found = db.session.execute(candidates).first()
        if found is None:
            db.session.commit()
            return None
        now = utcnow()
        claim = (
            db.update(ReportJob)
            .where(ReportJob.id == found.id, ReportJob.state == found.state, ReportJob.attempts == found.attempts)
            .values(
                state=JobState.RUNNING,
                claimed_by=worker,
                started_at=now,
                heartbeat_at=now,
                attempts=ReportJob.attempts + 1,
                done=0,
                total=0,
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
        won = db.session.execute(claim).rowcount == 1
        db.session.commit()
        if won:
            return db.session.get(ReportJob, found.id, populate_existing=True)
    return None


class JobTakenOver(Exception):
    """Another worker claimed this job (this one went quiet past the stale limit): stop and store nothing more."""


class Heartbeat:
    """The job's progress callback `(done, total, step)`: writes progress and the heartbeat, and commits (at
    most every `every` seconds, and always at the end of a step) so viewers and other workers see it.

    Committing here also commits what the build has stored so far (report.pdf is committed while units.zip is
    being built): a stored file is complete and belongs to its result version, so that is safe. The write is
    guarded by the claim: when another worker has taken the job over, JobTakenOver stops this build.
    """

    def __init__(self, job: ReportJob, echo=None, every: float = 0.5):
        self.job_id, self.worker, self.echo, self.every = job.id, job.claimed_by, echo, every
        self._last = 0.0

    def __call__(self, done: int, total: int, step: str = ""):
        if self.echo is not None:
            self.echo(done, total, step)
        now = time.monotonic()
        if now - self._last < self.every and done < total:
            return
        self._last = now
        beat = (
            db.update(ReportJob)
            .where(
                ReportJob.id == self.job_id, ReportJob.claimed_by == self.worker, ReportJob.state == JobState.RUNNING
            )
            .values(done=done, total=total, step=step[:20], heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if db.session.execute(beat).rowcount != 1:
            db.session.rollback()
            raise JobTakenOver(self.job_id)
        db.session.commit()


def build_report_files(result: Result, progress=None, processes: int | None = None) -> dict[str, ReportFile]:
    """Build and store the report and the units' zip of the result version from one `report_context` (every
    unit page and the problems read once). Flushes; a `Heartbeat` passed as `progress` commits as it goes."""
    from .exports import pdf

    context = pdf.report_context(result)
    started = time.perf_counter()
    report = pdf.build_pdf(result, progress=progress, processes=processes, context=context)
    seconds = time.perf_counter() - started
    files = {REPORT: store_file(result, REPORT, report.content, pages=report.pages, seconds=seconds)}
    started = time.perf_counter()
    units = pdf.build_units_zip(result, progress=progress, processes=processes, context=context)
    files[UNITS_ZIP] = store_file(result, UNITS_ZIP, units, seconds=time.perf_counter() - started)
    return files


def _finish(job_id: int, worker: str | None, **values) -> bool:
    """Set the job's final state if this worker still holds it (a guarded UPDATE); False when it was taken
    over, in which case nothing of this build that is not yet committed is kept."""
    finish = (
        db.update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.claimed_by == worker, ReportJob.state == JobState.RUNNING)
        .values(finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(finish).rowcount != 1:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def run_job(job: ReportJob, echo=None, processes: int | None = None) -> ReportJob:
    """Build the job's files and mark it done (or failed, with the error), committing as it goes. A worker
    whose job was taken over by another (it went quiet past the stale limit) stops and marks nothing."""
    job_id, worker = job.id, job.claimed_by
    result = db.session.get(Result, job.result_id)
    try:
        build_report_files(result, progress=Heartbeat(job, echo), processes=processes)
    except JobTakenOver:
        current_app.logger.warning("report job %s was taken over by another worker; stopped", job_id)
    except Exception as exc:  # the job records any failure; the worker goes on with the next job
        db.session.rollback()
        if _finish(job_id, worker, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]):
            current_app.logger.exception("report job %s failed", job_id)
    else:
        _finish(job_id, worker, state=JobState.DONE, heartbeat_at=utcnow())
    return db.session.get(ReportJob, job_id, populate_existing=True)


def work(once: bool = False, poll: float = 2.0, echo=None, processes: int | None = None, log=print) -> int:
    """The worker loop of `assessment report-worker`: claim, run, repeat; with `once`, stop when idle.
    Returns the number of jobs run."""
    ran = 0
    while True:
        job = claim_next()
        if job is None:
            if once:
                return ran
            time.sleep(poll)
            continue
        log(f"report job {job.id} (result {job.result_id}) claimed")
        job = run_job(job, echo=echo, processes=processes)
        ran += 1
        log(f"report job {job.id}: {job.state.value}" + (f" — {job.error}" if job.error else ""))


def report_bytes(result: Result, name: str = REPORT, progress=None, processes: int | None = None) -> bytes:
    """The stored file of the result version, building (and storing) the files now when there is none yet —
    for the command line, which may run without a worker. Flushes; the command commits."""
    stored = stored_file(result, name)
    if stored is None:
        stored = build_report_files(result, progress=progress, processes=processes)[name]
    return stored.content
