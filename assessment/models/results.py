"""Scoring schemes (评分方案), result versions and their rows (评价结果)."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class Scheme(db.Model):
    """A version of a period's scheme: the YAML text as the office wrote it."""

    __tablename__ = "schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("period_id", "version"),)


class ResultState(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self):
        return labels.RESULT_STATE_ZH[self.value]


class Result(db.Model):
    """A computed result version: frozen once published; a re-run makes a new version."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    version: Mapped[int] = mapped_column(Integer)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    #: sha256 over the input frames, so a re-run on the same data can be recognised.
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[ResultState] = mapped_column(str_enum(ResultState, "result_state"), default=ResultState.DRAFT)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
    #: City-wide tables kept with the result (public rating stats, data quality, sensitivity settings).
    extras: Mapped[dict | None] = mapped_column(JSON)

    scheme = relationship("Scheme")
    rows = relationship("ResultRow", back_populates="result", order_by="ResultRow.id")

    def ordered_rows(self) -> list["ResultRow"]:
        """The rows by category, then rank (units without a composite last, by code).

        Sorted in Python, by code point: database collations order Chinese category names differently.
        """
        return sorted(self.rows, key=lambda r: (r.category, r.rank is None, r.rank or 0, r.unit_code))

    __table_args__ = (UniqueConstraint("period_id", "version"),)


class ResultRow(db.Model):
    """One unit's line in a result version."""

    __tablename__ = "result_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: Code, name and category as they were when computed (units may be renamed later).
    unit_code: Mapped[str] = mapped_column(String(32))
    unit_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    base: Mapped[float | None] = mapped_column(Float)
    #: Composite, rank, grade, points and action are empty only for a unit with no data at all.
    composite: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(16))
    assessment_points: Mapped[float | None] = mapped_column(Float)
    establishment_action: Mapped[str | None] = mapped_column(String(16))
    suggested_reduction: Mapped[int] = mapped_column(Integer, default=0)
    approvals_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    coverage: Mapped[float] = mapped_column(Float)
    deduction: Mapped[float] = mapped_column(Float)
    bonus: Mapped[float] = mapped_column(Float)
    #: {leaf id: {"value": points or null, "n": sample, "contribution": points}}
    leaves: Mapped[dict] = mapped_column(JSON)
    #: Sensitivity, strengths/weaknesses and other explanations.
    detail: Mapped[dict | None] = mapped_column(JSON)
    review_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)

    result = relationship("Result", back_populates="rows")

    __table_args__ = (UniqueConstraint("result_id", "unit_id"),)
