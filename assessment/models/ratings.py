"""Rating devices, public ratings (好差评) and bad-rating cases (差评工单)."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class Channel(enum.Enum):
    WINDOW = "window"
    ONLINE = "online"
    APP = "app"
    HOTLINE = "hotline"
    SMS = "sms"

    @property
    def label(self):
        return labels.CHANNEL_ZH[self.value]


class CodeSystem(enum.Enum):
    """How a source numbers satisfaction levels."""

    #: 5 = 非常满意 … 1 = 非常不满意 (the platform's canonical order).
    STANDARD = "standard"
    #: GB/T 39046: 1 = 非常满意 … 5 = 非常不满意.
    GBT39046 = "gbt39046"

    def to_level(self, code: int) -> int:
        return code if self is CodeSystem.STANDARD else 6 - code


class Device(db.Model):
    """A rating device at a service window, or an integration key (online platform, hotline)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    window: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    #: An integration key may name unit_code and channel per rating.
    is_integration: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"), default=Channel.WINDOW)
    code_system: Mapped[CodeSystem] = mapped_column(str_enum(CodeSystem, "code_system"), default=CodeSystem.STANDARD)
    #: The first characters of the key, to find the row; the key itself is never stored.
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: sha256 of the whole key (keys are 256-bit random, so a fast hash is enough).
    key_hash: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the device has posted since it was registered, by answer (a device that retries blindly shows many
    #: duplicates; one with a wrong clock or a closed period shows rejections).
    n_accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_duplicate: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_conflict: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The last rejection's reason, so the office can tell a device with a wrong clock from one in a closed period.
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit = relationship("Unit")

    __table_args__ = (CheckConstraint("is_integration OR unit_id IS NOT NULL", name="device_has_unit"),)


class PublicRating(db.Model):
    """One rating by a member of the public; never deleted (exclusion is a flag with a reason)."""

    __tablename__ = "public_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    #: Where the event id is unique: "d<device id>" for devices, "import" for imported files.
    origin: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(64))
    #: Canonical level: 5 = 非常满意 … 1 = 非常不满意.
    level: Mapped[int] = mapped_column(SmallInteger)
    #: The code as the source sent it, and its code system.
    raw_code: Mapped[int] = mapped_column(SmallInteger)
    code_system: Mapped[CodeSystem] = mapped_column(str_enum(CodeSystem, "code_system"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    window: Mapped[str | None] = mapped_column(String(100))
    service_item: Mapped[str | None] = mapped_column(String(200))
    staff_code: Mapped[str | None] = mapped_column(String(64))
    #: 办件编号: one rating per case and stage.
    case_no: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: 默认好评: given by the system when the person did not rate; kept apart, not scored.
    is_default: Mapped[bool] = mapped_column(default=False)
    #: sha256 of the rating's content, to tell a duplicate retry from a conflicting reuse of an event id.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: Suspicion flags (burst, odd hour …) for the office to look at; flags never drop a rating.
    flags: Mapped[list | None] = mapped_column(JSON)
    #: True when a suspicion flag other than "default" is set (burst, odd_hour …): what the office reviews.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: 实名评价: the person can be called back (100% callback for real-name bad ratings).
    real_name: Mapped[bool] = mapped_column(default=False, server_default=false())
    excluded: Mapped[bool] = mapped_column(default=False)
    excluded_reason: Mapped[str | None] = mapped_column(Text)

    unit = relationship("Unit")
    device = relationship("Device")

    __table_args__ = (
        UniqueConstraint("origin", "event_id"),
        UniqueConstraint("case_no", "stage"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("raw_code BETWEEN 1 AND 5", name="raw_code_range"),
        Index("ix_public_ratings_period_unit_level", "period_id", "unit_id", "level", "is_default"),
        #: Burst detection looks at one device's, or one staff member's, top ratings around a moment.
        Index("ix_public_ratings_origin_rated_at", "origin", "rated_at"),
        Index("ix_public_ratings_staff_rated_at", "staff_code", "rated_at"),
    )


class RatingCount(db.Model):
    """How many scored public ratings a unit has per period, level and default flag: an exact aggregate.

    Kept by database triggers on public_ratings (migration 0005), so that every writer — the device API,
    imports, the demo city, the office's exclusions, plain SQL — keeps it exact in its own transaction; scoring
    reads these few rows instead of counting millions of ratings. Excluded ratings are not counted.
    A row may hold 0 after
    its ratings were excluded. `services.ratings.counts.mismatches` compares it with a full recount.
    """

    __tablename__ = "rating_counts"

    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    is_default: Mapped[bool] = mapped_column(primary_key=True)
    #: Stored, not excluded ratings with this key.
    n: Mapped[int] = mapped_column(Integer, default=0)


class CaseState(enum.Enum):
    OPEN = "open"
    ASSIGNED = "assigned"
    CALLED_BACK = "called_back"
    CLASSIFIED = "classified"
    RECTIFIED = "rectified"
    FED_BACK = "fed_back"
    APPEALED = "appealed"
    CLOSED = "closed"


class CaseClass(enum.Enum):
    REASONABLE = "reasonable"
    MISTAKEN = "mistaken"
    MALICIOUS = "malicious"
    OUT_OF_SCOPE = "out_of_scope"


class BadRatingCase(db.Model):
    """差评工单: opened for every rating at level 1-2, handled by whoever served the person."""

    __tablename__ = "bad_rating_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("public_ratings.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "case_state"), default=CaseState.OPEN)
    assignee: Mapped[str | None] = mapped_column(String(100))
    #: Deadline in working days from opening, as set by the office.
    due_on: Mapped[date] = mapped_column(Date)
    called_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_note: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[CaseClass | None] = mapped_column(str_enum(CaseClass, "case_class"))
    rectification: Mapped[str | None] = mapped_column(Text)
    fed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeal: Mapped[str | None] = mapped_column(Text)
    review_result: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Whether the callback reached the person (a callback that did not is still recorded, with a note).
    callback_reached: Mapped[bool | None] = mapped_column()
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the rectification (整改) or, for a rating not judged reasonable, the explanation (情况说明) was filed.
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the person was told (反馈); the deadline counts to this step.
    feedback_note: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 申诉复核: true when the office upheld the unit's appeal (the rating is then excluded, with the reason).
    review_upheld: Mapped[bool | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))

    rating = relationship("PublicRating")
    unit = relationship("Unit")

    __table_args__ = (
        Index("ix_bad_rating_cases_unit_state", "unit_id", "state"),
        Index("ix_bad_rating_cases_due_on", "due_on"),
    )
