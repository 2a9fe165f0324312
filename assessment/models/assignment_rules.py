"""The rules that turn a period's rater pool into assignments (who rates which units, with what)."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class TargetScope(enum.Enum):
    """Which units the raters of an instrument rate."""

    ALL_UNITS = "all_units"
    #: Only the units marked as serving towns (Unit.serves_towns), for grassroots raters.
    SERVING_TOWNS = "serving_towns"
    #: Every unit except the rater's own (部门互评); a department never rates itself in peer review.
    OTHER_UNITS = "other_units"
    #: The units in the rule's list, except the rater's own.
    LISTED_UNITS = "listed_units"
    #: The rater's own unit only (自评).
    OWN_UNIT = "own_unit"

    @property
    def label(self):
        return labels.TARGET_SCOPE_ZH[self.value]


class AssignmentRule(db.Model):
    """One instrument's rule in one period: enabled or not, and which units its raters rate.

    The rater group comes from the instrument definition (grassroots, leader, department, deputy, expert).
    """

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    #: Instrument key: grassroots / leader / peer / self / deputy / expert.
    instrument_key: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(default=True)
    scope: Mapped[TargetScope] = mapped_column(str_enum(TargetScope, "target_scope"))
    #: Unit codes for LISTED_UNITS (ignored otherwise).
    unit_codes: Mapped[list | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")

    period = relationship("Period")

    __table_args__ = (UniqueConstraint("period_id", "instrument_key"),)
