"""Instruments (问卷), assignments, responses and their submitted versions."""

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class Instrument(db.Model):
    """A versioned questionnaire definition, loaded from a file under surveys/."""

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: grassroots / leader / peer / self / deputy / expert
    key: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    rater_group: Mapped[str] = mapped_column(String(24))
    #: all_units / other_units / own_unit
    targets: Mapped[str] = mapped_column(String(24))
    #: The whole definition as loaded (YAML text), so a response can always be read against its questions.
    definition: Mapped[str] = mapped_column(Text)
    #: sha256 of the definition text.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questions = relationship("Question", back_populates="instrument", order_by="Question.position")

    __table_args__ = (UniqueConstraint("key", "version"),)


class Question(db.Model):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    #: The question's id inside its instrument (g01 …).
    qid: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str | None] = mapped_column(String(32))
    #: likert5 / score100
    type: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    text: Mapped[str] = mapped_column(Text)

    instrument = relationship("Instrument", back_populates="questions")

    __table_args__ = (
        UniqueConstraint("instrument_id", "qid"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )


class AssignmentState(enum.Enum):
    NOT_OPENED = "not_opened"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"

    @property
    def label(self):
        return labels.ASSIGNMENT_STATE_ZH[self.value]


class Assignment(db.Model):
    """One rater asked to rate one unit with one instrument in one period."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    state: Mapped[AssignmentState] = mapped_column(
        str_enum(AssignmentState, "assignment_state"), default=AssignmentState.NOT_OPENED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period = relationship("Period")
    rater = relationship("Rater")
    unit = relationship("Unit")
    instrument = relationship("Instrument")
    response = relationship("Response", back_populates="assignment", uselist=False)

    @property
    def returned(self) -> bool:
        """Sent back by the office (退回) and not yet submitted again: the rater is asked to look again."""
        return (
            self.response is not None
            and self.response.returned_at is not None
            and self.state is not AssignmentState.SUBMITTED
        )

    __table_args__ = (UniqueConstraint("period_id", "rater_id", "unit_id", "instrument_id"),)


class Response(db.Model):
    """One per assignment: the server-side draft plus the submitted versions."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    #: Answers saved but not yet submitted: {question id: value or null for 不了解}.
    draft: Mapped[dict | None] = mapped_column(JSON)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The number of the latest submitted version (0 = never submitted).
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    #: 退回: the office sent the submitted answers back to the rater to revise (who, when, why); cleared when
    #: the rater submits again. The returned version stays as it was.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by: Mapped[str | None] = mapped_column(String(64))
    return_reason: Mapped[str | None] = mapped_column(Text)

    assignment = relationship("Assignment", back_populates="response")
    versions = relationship("ResponseVersion", back_populates="response", order_by="ResponseVersion.version")


class ResponseSource(enum.Enum):
    WEB = "web"
    IMPORT = "import"
    CORRECTION = "correction"


class ResponseVersion(db.Model):
    """A submitted, immutable set of answers; a correction is a new version with who, when and why."""

    __tablename__ = "response_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[ResponseSource] = mapped_column(str_enum(ResponseSource, "response_source"))
    #: Who made a correction or an import (an office user name); empty for the rater's own submission.
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    #: Marked invalid by the office (left out of scoring), with who and why; the answers stay as they were.
    invalid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalid_by: Mapped[str | None] = mapped_column(String(64))
    invalid_reason: Mapped[str | None] = mapped_column(Text)

    response = relationship("Response", back_populates="versions")
    answers = relationship("Answer", back_populates="version", order_by="Answer.id")

    __table_args__ = (
        # Two concurrent submissions of the same draft both try the same version: one fails.
        UniqueConstraint("response_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("(invalid_at IS NULL) = (invalid_by IS NULL)", name="invalid_by_whom"),
    )


class Answer(db.Model):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("response_versions.id"))
    #: The question's id inside the instrument (g01 …).
    question: Mapped[str] = mapped_column(String(32))
    #: 1-5 for likert5, 0-100 for score100; NULL for 不了解 (don't know).
    value: Mapped[float | None] = mapped_column(Float)

    version = relationship("ResponseVersion", back_populates="answers")

    __table_args__ = (
        UniqueConstraint("version_id", "question"),
        CheckConstraint("value IS NULL OR (value >= 0 AND value <= 100)", name="value_range"),
        # Covers scoring's read of a version's answers (services/gather.py): SQLite answers it from the index
        # alone instead of one table look-up per answer.
        Index("ix_answers_version_id_question_value", "version_id", "question", "value"),
    )
