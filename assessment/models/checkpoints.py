"""Check points (问效点): the duty items each unit files for the year, their outcome and their evidence files."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class CheckPointStatus(enum.Enum):
    #: Filed, no outcome reported yet (待完成); scored as not done once its due date has passed (`scored_status`).
    PENDING = "pending"
    ON_TIME = "on_time"
    LATE = "late"
    NOT_DONE = "not_done"
    WAIVED = "waived"

    @property
    def label(self):
        return labels.CHECKPOINT_STATUS_ZH[self.value]


#: The statuses the `checkpoints` import accepts (interfaces.md): outcomes only; `pending` comes from the console.
IMPORTED_STATUSES = (
    CheckPointStatus.ON_TIME,
    CheckPointStatus.LATE,
    CheckPointStatus.NOT_DONE,
    CheckPointStatus.WAIVED,
)

#: The moves a check point makes in the console: the unit reports an outcome once (a `not_done` item may still
#: be completed late); the office may waive an item that has no completed outcome. Imports set any status.
CHECKPOINT_TRANSITIONS = {
    CheckPointStatus.PENDING: {
        CheckPointStatus.ON_TIME,
        CheckPointStatus.LATE,
        CheckPointStatus.NOT_DONE,
        CheckPointStatus.WAIVED,
    },
    CheckPointStatus.NOT_DONE: {CheckPointStatus.ON_TIME, CheckPointStatus.LATE, CheckPointStatus.WAIVED},
    CheckPointStatus.ON_TIME: set(),
    CheckPointStatus.LATE: set(),
    CheckPointStatus.WAIVED: set(),
}


class CheckPointStateError(Exception):
    """A check point was asked to move to a status it cannot reach; `message` says so in Chinese."""

    def __init__(self, current: CheckPointStatus, target: CheckPointStatus):
        self.current, self.target = current, target
        self.message = f"状态：问效点当前为“{current.label}”，不能改为“{target.label}”。"
        super().__init__(f"check point cannot move from {current.value} to {target.value}")


class CheckPoint(db.Model):
    """问效点: a concrete duty item a unit filed to deliver, with its due date."""

    __tablename__ = "check_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    item: Mapped[str] = mapped_column(String(500))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[CheckPointStatus] = mapped_column(str_enum(CheckPointStatus, "checkpoint_status"))
    #: The unit's account of what was delivered (完成情况); the evidence files are CheckPointFile rows.
    evidence: Mapped[str | None] = mapped_column(Text)
    #: 完成日期, reported by the unit; decides on time or late against `due`.
    done_on: Mapped[date | None] = mapped_column(Date)
    #: Why the office waived the item (免于考核); the console requires it.
    waive_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Office user name or "liaison:<user>".
    updated_by: Mapped[str | None] = mapped_column(String(64))

    #: Optimistic lock: a report or waiver claims the version it read (services/claims.claim), so of two
    #: written from the same read the second is refused instead of overwriting the first.
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    unit = relationship("Unit")
    files = relationship("CheckPointFile", back_populates="check_point", order_by="CheckPointFile.id")

    __table_args__ = (UniqueConstraint("period_id", "unit_id", "item"),)

    def move_to(self, target: CheckPointStatus):
        """Change status, refusing the moves CHECKPOINT_TRANSITIONS does not allow."""
        if target not in CHECKPOINT_TRANSITIONS[self.status]:
            raise CheckPointStateError(self.status, target)
        self.status = target


def scored_status(status: CheckPointStatus, due: date, as_of: date) -> str | None:
    """The one rule turning a stored status into what the engine counts (scoring.md, unchanged): a pending item
    counts as not done once its due date is before `as_of` and is left out before that; every other status counts
    as it is."""
    if status is CheckPointStatus.PENDING:
        return CheckPointStatus.NOT_DONE.value if is_overdue(status, due, as_of) else None
    return status.value


def is_overdue(status: CheckPointStatus, due: date, today: date) -> bool:
    """Is an item overdue on `today`: still pending (nothing reported) after its due date? It then counts as not
    done (scored_status) and is shown 已到期."""
    return status is CheckPointStatus.PENDING and due < today


class CheckPointFile(db.Model):
    """An evidence file of a check point; the bytes are under instance/uploads/checkpoints/ (services/uploads.py)."""

    __tablename__ = "check_point_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_point_id: Mapped[int] = mapped_column(ForeignKey("check_points.id"), index=True)
    #: Random name under instance/uploads/checkpoints/ (never the uploader's name).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: The name the uploader's file had, offered back on download.
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    #: Bytes.
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64))

    check_point = relationship("CheckPoint", back_populates="files")

    __table_args__ = (CheckConstraint("size > 0", name="file_size_positive"),)
