"""Office users, raters, and informant / linkage participants."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .. import labels
from ..extensions import db
from .base import UTCDateTime, str_enum, utcnow


class Role(enum.Enum):
    """Office roles; only data administrators may see raters' identities next to answers."""

    ADMIN = "admin"
    DATA_ADMIN = "data_admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    UNIT_LIAISON = "unit_liaison"

    @property
    def label(self):
        return labels.ROLE_ZH[self.value]


class User(UserMixin, db.Model):
    """An account of the evaluation office (or a unit liaison)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    #: For unit liaisons: the one unit whose cases they handle.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of every session's id (get_id): a new value on sign-out ends every copy of the old session cookie.
    session_nonce: Mapped[str | None] = mapped_column(String(32))

    def set_password(self, password: str):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """The session's user id: "<id>:<nonce>", so a sign-out (a new nonce) voids copied cookies."""
        return f"{self.id}:{self.session_nonce or ''}"

    def has_role(self, *roles: Role) -> bool:
        return self.role == Role.ADMIN or self.role in roles


class RaterGroup(enum.Enum):
    GRASSROOTS = "grassroots"
    LEADER = "leader"
    DEPARTMENT = "department"
    DEPUTY = "deputy"
    EXPERT = "expert"

    @property
    def label(self):
        return labels.RATER_GROUP_ZH[self.value]


class Rater(db.Model):
    """评价人: fills in the questionnaires assigned to them."""

    __tablename__ = "raters"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[RaterGroup] = mapped_column(str_enum(RaterGroup, "rater_group"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    #: A department rater's own unit (never rated by them in peer review).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    #: Hash of the personal access code; the code itself is shown once and never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    town = relationship("Town")
    unit = relationship("Unit", back_populates="raters")


class ParticipantKind(enum.Enum):
    INFORMANT = "informant"
    LINKAGE = "linkage"
    #: An expert of the supervision network (专家): comments on problems through a personal link.
    EXPERT = "expert"

    @property
    def label(self):
        return labels.PARTICIPANT_KIND_ZH[self.value]


class Participant(db.Model):
    """信息员, 监管联动部门 or 专家: sends suggestions, files problem reports or comments on problems; rates nothing."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ParticipantKind] = mapped_column(str_enum(ParticipantKind, "participant_kind"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    #: For a linkage department: the organisation it speaks for (纪委监委, 审计局 …).
    organisation: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    town = relationship("Town")
