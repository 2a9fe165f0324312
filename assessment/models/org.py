"""Periods, towns and the units under evaluation."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class PeriodState(enum.Enum):
    """draft → open (collecting) → closed → published; published results are frozen."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"

    @property
    def label(self):
        return labels.PERIOD_STATE_ZH[self.value]


#: Allowed moves between period states (re-opening a closed period is allowed before publication).
PERIOD_TRANSITIONS = {
    PeriodState.DRAFT: {PeriodState.OPEN},
    PeriodState.OPEN: {PeriodState.CLOSED},
    PeriodState.CLOSED: {PeriodState.OPEN, PeriodState.PUBLISHED},
    PeriodState.PUBLISHED: {PeriodState.PUBLISHED},
}


class PeriodStateError(Exception):
    """A period was asked to move to a state it cannot reach from where it is."""


class Period(db.Model):
    """评价周期: usually a year."""

    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The name users type, usually the year ("2026").
    name: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[PeriodState] = mapped_column(str_enum(PeriodState, "period_state"), default=PeriodState.DRAFT)
    #: The date deadlines and overdue problems are judged on (default: 31 December of the year).
    as_of: Mapped[date] = mapped_column(Date)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)

    def move_to(self, target: PeriodState):
        """Change state, refusing moves the workflow does not allow."""
        if target not in PERIOD_TRANSITIONS[self.state]:
            raise PeriodStateError(f"period {self.name} cannot move from {self.state.value} to {target.value}")
        self.state = target

    def __repr__(self):
        return f"<Period {self.name} {self.state.value}>"


class Town(db.Model):
    """镇街: a town or street; grassroots raters belong to one."""

    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class UnitKind(enum.Enum):
    PARTY = "party"
    GOVERNMENT = "government"
    INSTITUTION = "institution"

    @property
    def label(self):
        return labels.UNIT_KIND_ZH[self.value]


class Unit(db.Model):
    """被评价单位: a city-level department or public institution."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "unit_kind"))
    #: 分类排名组: units are ranked within their category.
    category: Mapped[str] = mapped_column(String(100))
    #: 编制数: authorized establishment (headcount).
    establishment: Mapped[int | None] = mapped_column(Integer)
    #: 实有人数: staff actually in post.
    actual_staff: Mapped[int | None] = mapped_column(Integer)
    #: 领导职数: authorized leader posts.
    leader_posts: Mapped[int | None] = mapped_column(Integer)
    #: 实配: leaders actually in post.
    leaders_in_post: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    #: Works with the towns and streets, so grassroots raters rate it when the period's rule says so.
    serves_towns: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    raters = relationship("Rater", back_populates="unit")

    __table_args__ = (
        CheckConstraint("establishment IS NULL OR establishment >= 0", name="establishment_nonneg"),
        CheckConstraint("actual_staff IS NULL OR actual_staff >= 0", name="actual_staff_nonneg"),
        CheckConstraint("leader_posts IS NULL OR leader_posts >= 0", name="leader_posts_nonneg"),
        CheckConstraint("leaders_in_post IS NULL OR leaders_in_post >= 0", name="leaders_in_post_nonneg"),
    )

    @property
    def over_establishment(self):
        """Taiyuan-style early warning: more staff than establishment."""
        return (
            self.establishment is not None and self.actual_staff is not None and self.actual_staff > self.establishment
        )

    @property
    def over_leader_posts(self):
        """Taiyuan-style early warning: more leaders in post than authorized leader posts (超职数)."""
        return (
            self.leader_posts is not None
            and self.leaders_in_post is not None
            and self.leaders_in_post > self.leader_posts
        )

    @property
    def vacancies(self) -> int:
        """空编: establishment not filled, never negative (0 when a figure is missing), as scoring.md counts it."""
        if self.establishment is None or self.actual_staff is None:
            return 0
        return max(0, self.establishment - self.actual_staff)

    def __repr__(self):
        return f"<Unit {self.code} {self.name}>"
