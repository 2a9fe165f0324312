"""The supervision ledger: check points (问效点), problems (问题台账), suggestions, bonuses, appraisal scores."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class CheckPointStatus(enum.Enum):
    ON_TIME = "on_time"
    LATE = "late"
    NOT_DONE = "not_done"
    WAIVED = "waived"

    @property
    def label(self):
        return labels.CHECKPOINT_STATUS_ZH[self.value]


class CheckPoint(db.Model):
    """问效点: a concrete duty item a unit filed to deliver, with its due date."""

    __tablename__ = "check_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    item: Mapped[str] = mapped_column(String(500))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[CheckPointStatus] = mapped_column(str_enum(CheckPointStatus, "checkpoint_status"))
    evidence: Mapped[str | None] = mapped_column(Text)

    unit = relationship("Unit")

    __table_args__ = (UniqueConstraint("period_id", "unit_id", "item"),)


class ProblemSource(enum.Enum):
    SUPERVISION = "supervision"
    LINKAGE = "linkage"
    INFORMANT = "informant"
    EXPERT = "expert"
    EVALUATION = "evaluation"
    AUDIT = "audit"
    INSPECTION = "inspection"
    PETITION = "petition"
    OTHER = "other"

    @property
    def label(self):
        return labels.PROBLEM_SOURCE_ZH[self.value]


class Severity(enum.Enum):
    GENERAL = "general"
    SERIOUS = "serious"
    GRAVE = "grave"

    @property
    def label(self):
        return labels.SEVERITY_ZH[self.value]


class ProblemState(enum.Enum):
    OPEN = "open"
    RECTIFYING = "rectifying"
    CLOSED = "closed"

    @property
    def label(self):
        return labels.PROBLEM_STATE_ZH[self.value]


class Problem(db.Model):
    """问题: found in a unit, pushed to it, rectified, and closed (销号)."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[ProblemSource] = mapped_column(str_enum(ProblemSource, "problem_source"))
    category: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    found_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    #: 销号 date; empty while the problem is open.
    closed_on: Mapped[date | None] = mapped_column(Date)
    responsible: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[ProblemState] = mapped_column(str_enum(ProblemState, "problem_state"), default=ProblemState.OPEN)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit = relationship("Unit")

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "title", "found_on"),
        CheckConstraint("deadline >= found_on", name="deadline_after_found"),
        CheckConstraint("closed_on IS NULL OR closed_on >= found_on", name="closed_after_found"),
    )

    def is_overdue(self, as_of: date) -> bool:
        """Overdue as scoring.md says: open past the deadline, or closed after it (`scoring.problem_flags`)."""
        from scoring import problem_flags

        return bool(problem_flags([self.deadline], [self.closed_on], as_of)[0].iloc[0])


class SuggestionStatus(enum.Enum):
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"

    @property
    def label(self):
        return labels.SUGGESTION_STATUS_ZH[self.value]


class Suggestion(db.Model):
    """意见建议 from an informant or expert; the office screens it; a valid one may become a problem."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.PENDING
    )
    screened_by: Mapped[str | None] = mapped_column(String(64))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screen_note: Mapped[str | None] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))

    participant = relationship("Participant")
    unit = relationship("Unit")


class BonusItem(db.Model):
    """加分项: points for innovation, capped by the scheme."""

    __tablename__ = "bonus_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(String(500))
    points: Mapped[float] = mapped_column(Float)

    unit = relationship("Unit")

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "reason"),
        CheckConstraint("points > 0 AND points <= 100", name="points_range"),
    )


class InstitutionScore(db.Model):
    """事业单位绩效考核: the appraisal score brought in from elsewhere (0-100)."""

    __tablename__ = "institution_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    score: Mapped[float] = mapped_column(Float)

    unit = relationship("Unit")

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )
