"""Check points (问效点) through the year: a unit files its duty items, its liaison reports each outcome with
evidence, the office waives an item with a reason and follows completion by unit and month.

Services flush; the request or CLI command commits. The `checkpoints` leaf is fed unchanged: `scored_frame` turns
the stored statuses into the four the engine knows with the one rule `models.checkpoints.scored_status`.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    CheckPoint,
    CheckPointFile,
    CheckPointStateError,
    CheckPointStatus,
    Period,
    PeriodState,
    Unit,
)
from ..models.base import utcnow
from ..models.checkpoints import is_overdue, scored_status
from . import audit, refusals, uploads
from .claims import claim
from .refusals import Refused
from .workdays import china_today

#: Where evidence files go under instance/uploads/.
UPLOAD_AREA = "checkpoints"
ITEM_MAX = 500
TEXT_MAX = 4000
#: Evidence files one report may carry.
MAX_FILES = 5

DONE = (CheckPointStatus.ON_TIME, CheckPointStatus.LATE)
#: The refusal when another person changed the item between reading and writing it.
STALE_ZH = "状态：有人刚刚修改了这个问效点，请刷新页面查看后再操作。"


class CheckPointError(Refused):
    """A check point cannot be written as asked; `message_zh` names the field and says why."""


def _writable(period: Period):
    if period.state is PeriodState.PUBLISHED:
        raise CheckPointError(f"评价周期：{period.name} 年度评价结果已发布，问效点不能再修改。")


def _text(value, field_zh, max_len, required=True):
    return refusals.text(value, field_zh, max_len, required, error=CheckPointError)


def file_check_point(period: Period, unit: Unit, item: str, due: date | None, actor: str) -> CheckPoint:
    """A unit's new duty item for the year (待完成), due within the period; refuses an item the unit already filed."""
    _writable(period)
    item = _text(item, "问效事项", ITEM_MAX)
    if due is None:
        raise CheckPointError("完成时限：请填写日期，如 2026-06-30。")
    if not period.starts_on <= due <= period.ends_on:
        raise CheckPointError(f"完成时限：须在评价周期内（{period.starts_on} 至 {period.ends_on}）。")
    taken = db.session.execute(
        db.select(CheckPoint.id).filter_by(period_id=period.id, unit_id=unit.id, item=item)
    ).first()
    if taken is not None:
        raise CheckPointError(f"问效事项：本单位已登记过“{item}”。")
    point = CheckPoint(
        period_id=period.id,
        unit_id=unit.id,
        item=item,
        due=due,
        status=CheckPointStatus.PENDING,
        updated_at=utcnow(),
        updated_by=actor,
    )
    db.session.add(point)
    try:
        db.session.flush()
    except IntegrityError:
        # UNIQUE (period, unit, item): a double submit that raced past the check above; the refusal rolls back.
        raise CheckPointError(f"问效事项：本单位已登记过“{item}”。") from None
    audit.record(actor, "checkpoint.file", "check_point", point.id, unit=unit.code, item=item, due=str(due))
    return point


def _stored(point: CheckPoint, files) -> list[uploads.StoredFile]:
    """Check and store the given files (all or none) before anything is written; at most MAX_FILES per item."""
    if len(point.files) + len(uploads.given(files)) > MAX_FILES:
        raise CheckPointError(f"佐证材料：每个问效点最多 {MAX_FILES} 个文件。")
    try:
        return uploads.store_all(files, UPLOAD_AREA, "佐证材料", MAX_FILES)
    except uploads.UploadError as exc:
        raise CheckPointError(exc.message_zh) from None


def _file_rows(point: CheckPoint, stored, actor: str) -> list[CheckPointFile]:
    rows = [
        CheckPointFile(
            check_point_id=point.id,
            stored_name=s.stored_name,
            original_name=s.original_name,
            content_type=s.content_type,
            size=s.size,
            uploaded_by=actor,
        )
        for s in stored
    ]
    db.session.add_all(rows)
    return rows


def report_outcome(
    point: CheckPoint, actor: str, *, done: bool, done_on: date | None = None, evidence: str | None = None, files=None
) -> CheckPoint:
    """The unit's report on one item: done on a date (on time or late against the due date, decided here) with
    its account and evidence files, or not done with the reason. Refuses a move the item cannot make (an item
    already reported done or waived), a completion date after today, and bad files; writes nothing then."""
    period = db.session.get(Period, point.period_id)
    _writable(period)
    if done:
        if done_on is None:
            raise CheckPointError("完成日期：请填写日期，如 2026-06-30。")
        if done_on > china_today():
            raise CheckPointError("完成日期：不能晚于今天。")
        if done_on < period.starts_on:
            raise CheckPointError(f"完成日期：不能早于评价周期开始（{period.starts_on}）。")
        evidence = _text(evidence, "完成情况", TEXT_MAX)
        target = CheckPointStatus.ON_TIME if done_on <= point.due else CheckPointStatus.LATE
    else:
        evidence = _text(evidence, "未完成原因", TEXT_MAX)
        target = CheckPointStatus.NOT_DONE
        done_on = None
    before = point.status
    stored = _stored(point, files)  # a bad file refuses before the state moves
    try:
        try:
            point.move_to(target)
        except CheckPointStateError as exc:
            raise CheckPointError(exc.message) from None
        claim(point, CheckPointError(STALE_ZH, "状态"))
    except CheckPointError:
        uploads.remove_all(UPLOAD_AREA, stored)
        raise
    point.done_on, point.evidence = done_on, evidence
    point.updated_at, point.updated_by = utcnow(), actor
    stored = _file_rows(point, stored, actor)
    db.session.flush()
    audit.record(
        actor,
        "checkpoint.report",
        "check_point",
        point.id,
        before=before.value,
        after=target.value,
        done_on=str(done_on) if done_on else None,
        files=[f.original_name for f in stored],
    )
    return point


def add_evidence(point: CheckPoint, files, actor: str) -> list[CheckPointFile]:
    """More evidence files for an item (before the period is published)."""
    _writable(db.session.get(Period, point.period_id))
    if not uploads.given(files):
        raise CheckPointError("佐证材料：请选择文件。")
    rows = _file_rows(point, _stored(point, files), actor)
    point.updated_at, point.updated_by = utcnow(), actor
    db.session.flush()
    audit.record(actor, "checkpoint.evidence", "check_point", point.id, files=[f.original_name for f in rows])
    return rows


def waive(point: CheckPoint, reason: str, actor: str) -> CheckPoint:
    """The office's 免于考核 with its reason: the item leaves the `checkpoints` leaf (scoring.md)."""
    _writable(db.session.get(Period, point.period_id))
    reason = _text(reason, "免于考核理由", TEXT_MAX)
    before = point.status
    try:
        point.move_to(CheckPointStatus.WAIVED)
    except CheckPointStateError as exc:
        raise CheckPointError(exc.message) from None
    claim(point, CheckPointError(STALE_ZH, "状态"))
    point.waive_reason = reason
    point.updated_at, point.updated_by = utcnow(), actor
    db.session.flush()
    audit.record(actor, "checkpoint.waive", "check_point", point.id, before=before.value, reason=reason)
    return point


def list_check_points(period: Period, unit_id: int | None = None, status: CheckPointStatus | None = None):
    """The period's check points (one unit's when `unit_id` is given), by unit and due date."""
    query = (
        db.select(CheckPoint)
        .join(Unit, CheckPoint.unit_id == Unit.id)
        .where(CheckPoint.period_id == period.id)
        .order_by(Unit.code, CheckPoint.due, CheckPoint.id)
    )
    if unit_id is not None:
        query = query.where(CheckPoint.unit_id == unit_id)
    if status is not None:
        query = query.where(CheckPoint.status == status)
    return db.session.execute(query).scalars().all()


def get_check_point(point_id: int, unit_id: int | None = None) -> CheckPoint | None:
    """A check point by id; None when it does not exist or (with `unit_id`) belongs to another unit."""
    point = db.session.get(CheckPoint, point_id)
    if point is None or (unit_id is not None and point.unit_id != unit_id):
        return None
    return point


def get_file(file_id: int, unit_id: int | None = None) -> CheckPointFile | None:
    """An evidence file; None when it does not exist or (with `unit_id`) is another unit's."""
    row = db.session.get(CheckPointFile, file_id)
    if row is None or (unit_id is not None and row.check_point.unit_id != unit_id):
        return None
    return row


def file_path(row: CheckPointFile):
    """Where an evidence file's bytes are."""
    return uploads.path_of(UPLOAD_AREA, row.stored_name)


# ---------------------------------------------------------------- completion


@dataclass
class Tally:
    """Counts of check points by status; `rate` is the completed share of the items that count (not waived)."""

    counts: dict = field(default_factory=lambda: {s: 0 for s in CheckPointStatus})
    #: Pending items already past their due date (逾期未报).
    overdue: int = 0

    def add(self, point_status: CheckPointStatus, due: date, today: date):
        self.counts[point_status] += 1
        if is_overdue(point_status, due, today):
            self.overdue += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def counted(self) -> int:
        """Items that count (all but the waived ones)."""
        return self.total - self.counts[CheckPointStatus.WAIVED]

    @property
    def done(self) -> int:
        return self.counts[CheckPointStatus.ON_TIME] + self.counts[CheckPointStatus.LATE]

    @property
    def rate(self) -> float | None:
        """Completed share (0-1) of the items that count; None when none counts."""
        return self.done / self.counted if self.counted else None


@dataclass
class Completion:
    """Completion of a period's check points: city-wide, by unit, by month of the due date, by unit and month."""

    months: list[date]
    total: Tally
    by_month: dict[date, Tally]
    #: [(unit, tally, {month: tally})] by unit code.
    by_unit: list[tuple]


def completion(period: Period, unit_id: int | None = None, today: date | None = None) -> Completion:
    """How far the period's check points are done, by unit and by the month they are due (one unit's with
    `unit_id`). A month is the first day of the due date's month; every month of the period is listed."""
    today = today or china_today()
    query = (
        db.select(Unit, CheckPoint.status, CheckPoint.due)
        .join(Unit, CheckPoint.unit_id == Unit.id)
        .where(CheckPoint.period_id == period.id)
        .order_by(Unit.code)
    )
    if unit_id is not None:
        query = query.where(CheckPoint.unit_id == unit_id)
    months = []
    month = period.starts_on.replace(day=1)
    while month <= period.ends_on:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    total, by_month, units = Tally(), {m: Tally() for m in months}, {}
    for unit, status, due in db.session.execute(query):
        key = due.replace(day=1)
        total.add(status, due, today)
        by_month.setdefault(key, Tally()).add(status, due, today)
        entry = units.setdefault(unit.id, (unit, Tally(), {}))
        entry[1].add(status, due, today)
        entry[2].setdefault(key, Tally()).add(status, due, today)
    return Completion(months, total, by_month, list(units.values()))


def scored_frame(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The engine's `checkpoints` frame (unit, status) from stored (unit, status, due) rows: pending items become
    not done once due before `as_of`, else they are left out (models.checkpoints.scored_status)."""
    statuses = [scored_status(s, d, as_of) for s, d in zip(frame["status"], frame["due"], strict=True)]
    out = pd.DataFrame({"unit": frame["unit"].tolist(), "status": statuses}, columns=["unit", "status"])
    return out[out["status"].notna()].reset_index(drop=True)
