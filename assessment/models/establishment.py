"""Real-name establishment data (实名制): the history of a unit's figures, and the vacancy pool (零空编)."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow

#: The four figures of a unit (Unit columns), in the order pages show them.
FIGURES = ("establishment", "actual_staff", "leader_posts", "leaders_in_post")


class ChangeSource(enum.Enum):
    CONSOLE = "console"
    #: The vacancy pool took (or gave) establishments.
    POOL = "pool"

    @property
    def label(self):
        return labels.ESTABLISHMENT_SOURCE_ZH[self.value]


class EstablishmentChange(db.Model):
    """One change of a unit's establishment figures: every figure before and after, who, when and why."""

    __tablename__ = "establishment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    source: Mapped[ChangeSource] = mapped_column(str_enum(ChangeSource, "establishment_source"))
    establishment_before: Mapped[int | None] = mapped_column(Integer)
    establishment_after: Mapped[int | None] = mapped_column(Integer)
    actual_staff_before: Mapped[int | None] = mapped_column(Integer)
    actual_staff_after: Mapped[int | None] = mapped_column(Integer)
    leader_posts_before: Mapped[int | None] = mapped_column(Integer)
    leader_posts_after: Mapped[int | None] = mapped_column(Integer)
    leaders_in_post_before: Mapped[int | None] = mapped_column(Integer)
    leaders_in_post_after: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))

    unit = relationship("Unit")

    def changed_figures(self) -> list[tuple[str, int | None, int | None]]:
        """(figure, before, after) for each figure this change altered."""
        out = []
        for name in FIGURES:
            before, after = getattr(self, f"{name}_before"), getattr(self, f"{name}_after")
            if before != after:
                out.append((name, before, after))
        return out


class PoolEntryKind(enum.Enum):
    #: 收回: a `restrict` unit's confirmed reduction moves into the pool.
    RECLAIM = "reclaim"
    #: 调剂: the pool gives establishments to a unit.
    ALLOCATE = "allocate"

    @property
    def label(self):
        return labels.POOL_ENTRY_ZH[self.value]


class VacancyPoolEntry(db.Model):
    """零空编: one movement of establishments into or out of the city's pool, with the balance after it.

    Entries form one chain numbered by `seq` (unique): a writer appends `seq = last + 1`, so two writers who read
    the same balance cannot both append, and `balance_after >= 0` keeps the pool from going negative in the
    database itself. A unit's reduction for a period is confirmed once: (period_id, unit_id) is unique, and only
    reclaims carry a period (NULLs never collide, so allocations may repeat).
    """

    __tablename__ = "vacancy_pool_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[PoolEntryKind] = mapped_column(str_enum(PoolEntryKind, "pool_entry_kind"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: The period whose published result suggested the reduction (reclaims only).
    period_id: Mapped[int | None] = mapped_column(ForeignKey("periods.id"))
    #: The published result row the reclaim confirmed.
    result_row_id: Mapped[int | None] = mapped_column(ForeignKey("result_rows.id"))
    #: Establishments moved (编制数, always positive; the kind says the direction).
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    unit = relationship("Unit")
    period = relationship("Period")

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", name="uq_vacancy_pool_reclaim_once"),
        CheckConstraint("seq >= 1", name="pool_seq_positive"),
        CheckConstraint("amount > 0", name="pool_amount_positive"),
        CheckConstraint("balance_after >= 0", name="pool_balance_nonneg"),
        CheckConstraint(
            "(kind = 'reclaim' AND period_id IS NOT NULL) OR (kind = 'allocate' AND period_id IS NULL)",
            name="pool_reclaim_has_period",
        ),
    )
