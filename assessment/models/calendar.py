"""The working-day calendar (节假日安排) and office settings that deadlines depend on."""

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class CalendarDay(db.Model):
    """A day that differs from the usual Monday-Friday week.

    A public holiday (法定节假日, is_workday false) or an adjusted working day on a weekend (调休上班, is_workday
    true). Every other day is a working day from Monday to Friday and a rest day on Saturday and Sunday.
    """

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    #: What the day is, e.g. "国庆节" or "国庆节调休上班".
    name: Mapped[str] = mapped_column(String(50), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Office user name, "cli" or "migration".
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Setting(db.Model):
    """An office setting the console can change (e.g. the bad-rating case deadline in working days)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))
