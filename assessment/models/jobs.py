"""Background report jobs (报告生成任务) and the files they build, kept per result version.

The printed report of a result version is built once, outside the request workers, by `assessment
report-worker` (its own process; any number of them on any number of servers). A job row is the queue entry:
workers claim it with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL and a compare-and-set UPDATE on SQLite,
report progress in it, and store the files in `report_files`, so every app server serves the same bytes
without a shared disk.
"""

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return labels.JOB_STATE_ZH[self.value]


class ReportJob(db.Model):
    """Building the printed report (and the units' zip) of one result version: at most one job per version."""

    __tablename__ = "report_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"), default=JobState.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    #: The worker that holds the job ("host:pid"); a running job whose heartbeat is older than the stale limit
    #: (a worker killed mid-job) is claimed again by the next worker.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Progress: pages (or unit files) done of total, and the step ("report", "units").
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("result_id"),
        CheckConstraint("done >= 0 AND total >= 0", name="progress_positive"),
        Index("ix_report_jobs_state", "state", "id"),
    )


class ReportFile(db.Model):
    """A file a report job built for a result version ("report.pdf", "units.zip"), downloaded as it is."""

    __tablename__ = "report_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    #: sha256 of the content (an ETag for downloads).
    sha256: Mapped[str] = mapped_column(String(64))
    #: Pages of a PDF (None for a zip).
    pages: Mapped[int | None] = mapped_column(Integer)
    #: Wall time it took to build, in seconds (what bench/export.py and the console report).
    seconds: Mapped[float | None] = mapped_column(db.Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("result_id", "name"),)
