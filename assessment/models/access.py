"""Personal access (个人链接 / 访问码) for raters and participants, and the throttle on wrong access codes."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class AccessKey(db.Model):
    """One personal link and its access code, for one rater or one participant, in one period.

    Neither the token nor the code is stored: only their HMAC-SHA256 (services/access.py says why). Re-issuing
    revokes the holder's previous key; a revoked key is kept (with who revoked it) and never reused.
    """

    __tablename__ = "access_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    rater_id: Mapped[int | None] = mapped_column(ForeignKey("raters.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    #: HMAC-SHA256 (hex) of the link's token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: HMAC-SHA256 (hex) of the normalised 8-character access code.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The office user (or "cli", "demo") who issued it.
    issued_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    #: Last time the holder opened a page with it (updated at most once a minute).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    period = relationship("Period")
    rater = relationship("Rater")
    participant = relationship("Participant")

    __table_args__ = (
        # Exactly one holder: a rater or a participant (informant, linkage department, expert).
        CheckConstraint("(rater_id IS NULL) <> (participant_id IS NULL)", name="one_holder"),
        CheckConstraint("(revoked_at IS NULL) = (revoked_by IS NULL)", name="revoked_by_whom"),
    )

    @property
    def holder(self):
        return self.rater if self.rater_id is not None else self.participant

    def __repr__(self):
        who = f"rater {self.rater_id}" if self.rater_id is not None else f"participant {self.participant_id}"
        return f"<AccessKey {self.id} {who} period {self.period_id}{' revoked' if self.revoked_at else ''}>"
