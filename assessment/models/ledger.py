"""The supervision ledger: problems (问题台账), suggestions, bonuses, appraisal scores (check points (问效点) are in
checkpoints.py)."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


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


class ProblemClass(enum.Enum):
    """Who solves it: the unit rectifies (整改), the office solves it (编办解决), or a policy reserve (改革政策储备)."""

    UNIT = "unit"
    OFFICE = "office"
    RESERVE = "reserve"

    @property
    def label(self):
        return labels.PROBLEM_CLASS_ZH[self.value]


class ProblemAction(enum.Enum):
    """What can happen to a problem; each is one row of the problem's history (ProblemStep)."""

    FILE = "file"  # 登记
    PUSH = "push"  # 推送至单位
    REPORT = "report"  # 单位报送整改情况
    RETURN = "return"  # 整改不到位，退回
    CLOSE = "close"  # 验收销号
    LOOKBACK = "lookback"  # 回头看：整改成果巩固
    REOPEN = "reopen"  # 回头看：问题反弹，重新整改
    INTERVIEW = "interview"  # 约谈
    LETTER = "letter"  # 函告
    NOTICE = "notice"  # 通报
    COMMENT = "comment"  # 专家点评

    @property
    def label(self):
        return labels.PROBLEM_ACTION_ZH[self.value]


#: Escalation for slow rectification, in order: 约谈 → 函告 → 通报.
ESCALATION_STEPS = (ProblemAction.INTERVIEW, ProblemAction.LETTER, ProblemAction.NOTICE)

#: The state machine of a problem: (state, action) → the state after it. A pair not here is refused.
PROBLEM_TRANSITIONS = {
    (ProblemState.OPEN, ProblemAction.FILE): ProblemState.OPEN,
    (ProblemState.OPEN, ProblemAction.PUSH): ProblemState.RECTIFYING,
    (ProblemState.OPEN, ProblemAction.CLOSE): ProblemState.CLOSED,  # rectified at once / solved by the office
    (ProblemState.RECTIFYING, ProblemAction.PUSH): ProblemState.RECTIFYING,  # pushed again
    (ProblemState.RECTIFYING, ProblemAction.REPORT): ProblemState.RECTIFYING,
    (ProblemState.RECTIFYING, ProblemAction.RETURN): ProblemState.RECTIFYING,
    (ProblemState.RECTIFYING, ProblemAction.CLOSE): ProblemState.CLOSED,
    (ProblemState.CLOSED, ProblemAction.LOOKBACK): ProblemState.CLOSED,
    (ProblemState.CLOSED, ProblemAction.REOPEN): ProblemState.RECTIFYING,
    **{(state, step): state for state in (ProblemState.OPEN, ProblemState.RECTIFYING) for step in ESCALATION_STEPS},
    **{(state, ProblemAction.COMMENT): state for state in ProblemState},
}


class ProblemTransitionError(Exception):
    """A problem was asked to do what its state does not allow; ``message`` says so in Chinese."""

    def __init__(self, state: ProblemState, action: ProblemAction):
        self.state, self.action = state, action
        self.message = f"问题当前状态为“{state.label}”，不能{action.label}。"
        super().__init__(f"problem in state {state.value} cannot {action.value}")


class LedgerCounter(db.Model):
    """The last problem number used in a year. Filing takes the next one with one atomic UPDATE … RETURNING,
    so concurrent filings neither skip nor repeat a number (a rolled-back filing rolls its number back too)."""

    __tablename__ = "ledger_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("last >= 0", name="last_nonneg"),)


class Problem(db.Model):
    """问题: found in a unit, numbered in the ledger, pushed to it, rectified, and closed (销号)."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Ledger number YYYY-NNNN: the year the problem was found and its place in that year's ledger
    #: (services/ledger_numbers.py gives it when the problem is first written, however it is written).
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(500))
    #: What was found, in full (the title is the short form on lists).
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[ProblemSource] = mapped_column(str_enum(ProblemSource, "problem_source"))
    #: The informant, expert or linkage department that reported it (none for the office's own findings).
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    #: One of labels.SUPERVISION_CATEGORIES on the console's forms; imports may bring other words.
    category: Mapped[str | None] = mapped_column(String(100))
    #: 问题分类: column "class" (a Python keyword, hence the attribute name).
    problem_class: Mapped[ProblemClass] = mapped_column(
        "class", str_enum(ProblemClass, "problem_class"), default=ProblemClass.UNIT
    )
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    found_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    #: 销号 date; empty while the problem is open.
    closed_on: Mapped[date | None] = mapped_column(Date)
    responsible: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[ProblemState] = mapped_column(str_enum(ProblemState, "problem_state"), default=ProblemState.OPEN)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_by: Mapped[str | None] = mapped_column(String(64))
    #: The close-out note (验收意见); the evidence files are on the problem's steps.
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Optimistic lock: every step claims the version it read (services/ledger._step, one UPDATE … WHERE version),
    #: so of two clerks moving the problem from the same read (two closes at once) the second is refused.
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    unit = relationship("Unit")
    reporter = relationship("Participant")
    steps = relationship("ProblemStep", back_populates="problem", order_by="ProblemStep.id")

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "title", "found_on"),
        UniqueConstraint("year", "seq"),
        CheckConstraint("seq >= 1 AND seq <= 9999", name="seq_range"),
        CheckConstraint("deadline >= found_on", name="deadline_after_found"),
        CheckConstraint("closed_on IS NULL OR closed_on >= found_on", name="closed_after_found"),
    )

    @property
    def number(self) -> str:
        """The ledger number as people read it: 2026-0001."""
        return f"{self.year}-{self.seq:04d}" if self.year and self.seq else ""

    def is_overdue(self, as_of: date) -> bool:
        """Overdue as scoring.md says: open past the deadline, or closed after it (`scoring.problem_flags`)."""
        from scoring import problem_flags

        return bool(problem_flags([self.deadline], [self.closed_on], as_of)[0].iloc[0])

    def suspends_approvals(self, as_of: date) -> bool:
        """审批联动: still open on ``as_of`` past its deadline (`scoring.problem_flags`)."""
        from scoring import problem_flags

        return bool(problem_flags([self.deadline], [self.closed_on], as_of)[1].iloc[0])

    def can(self, action: ProblemAction) -> bool:
        """Whether the transition table allows ``action`` now (pages show only the buttons that work)."""
        return (self.state, action) in PROBLEM_TRANSITIONS

    def move(self, action: ProblemAction) -> ProblemState:
        """Apply ``action`` to the state, refusing what the transition table does not allow."""
        target = PROBLEM_TRANSITIONS.get((self.state, action))
        if target is None:
            raise ProblemTransitionError(self.state, action)
        self.state = target
        return target


class ProblemStep(db.Model):
    """One thing that happened to a problem (filed, pushed, reported, returned, closed, looked back, escalated,
    commented), with its date, who did it, what they wrote and the files they attached."""

    __tablename__ = "problem_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    action: Mapped[ProblemAction] = mapped_column(str_enum(ProblemAction, "problem_action"))
    #: The day it happened (an interview's date, a report's date), as the person recording it says.
    on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    #: Office user name, "liaison:<user>", "participant:<code>", "cli", "import".
    actor: Mapped[str] = mapped_column(String(64))
    #: The expert or department who wrote it through a personal link.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    state_after: Mapped[ProblemState] = mapped_column(str_enum(ProblemState, "problem_state"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    problem = relationship("Problem", back_populates="steps")
    participant = relationship("Participant")
    files = relationship("StepFile", order_by="StepFile.id")


class StepFile(db.Model):
    """An evidence file attached to a problem's step (整改佐证材料), stored by services/uploads.py under
    instance/uploads/problems/."""

    __tablename__ = "problem_step_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("problem_steps.id"), index=True)
    #: Random name under instance/uploads/problems/ (never the uploader's name).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    #: Bytes.
    size: Mapped[int] = mapped_column(Integer)


class SuggestionStatus(enum.Enum):
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"

    @property
    def label(self):
        return labels.SUGGESTION_STATUS_ZH[self.value]


class SuggestionKind(enum.Enum):
    SUGGESTION = "suggestion"  # 意见建议
    REPORT = "report"  # 问题反映

    @property
    def label(self):
        return labels.SUGGESTION_KIND_ZH[self.value]


class Suggestion(db.Model):
    """意见建议 or 问题反映 from an informant; the office screens it; a valid one may become a problem."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[SuggestionKind] = mapped_column(
        str_enum(SuggestionKind, "suggestion_kind"), default=SuggestionKind.SUGGESTION
    )
    text: Mapped[str] = mapped_column(Text)
    #: When it happened, as the informant says (may be empty).
    happened_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[SuggestionStatus] = mapped_column(
        str_enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.PENDING
    )
    screened_by: Mapped[str | None] = mapped_column(String(64))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was found valid or invalid (required when invalid).
    screen_note: Mapped[str | None] = mapped_column(Text)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))

    participant = relationship("Participant")
    unit = relationship("Unit")
    problem = relationship("Problem")
    #: An optional photo or file; served only to the office.
    file = relationship("SuggestionFile", uselist=False)

    __table_args__ = (
        CheckConstraint("status <> 'invalid' OR screen_note IS NOT NULL", name="invalid_has_reason"),
        CheckConstraint("problem_id IS NULL OR status = 'valid'", name="problem_only_if_valid"),
    )


class SuggestionFile(db.Model):
    """The photo or file an informant attached, stored under instance/uploads/suggestions/."""

    __tablename__ = "suggestion_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), unique=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)


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
