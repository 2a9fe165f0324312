"""The append-only audit log: writing entries, and reading them back filtered (console, export)."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry
from ..spreadsheets import csv_bytes
from ..timefmt import CST, format_cst


def record(actor: str, action: str, object_type: str | None = None, object_id=None, **detail):
    """Add an audit entry to the current transaction (committed with the change it describes)."""
    entry = AuditEntry(
        actor=actor or "system",
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or None,
    )
    db.session.add(entry)
    return entry


# --- reading the log (the console's 审计日志 and its export) ---------------------------------------------

#: Entries per page in the console.
PAGE_SIZE = 100
#: Rows an export may hold (the filter narrows it; the newest come first).
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    """What the office looks for: who (actor, exact), what (action, exact or a prefix ending in "."), which
    object (type, id), and when (China dates, both ends included). Empty fields do not filter."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def query(self):
        """The SELECT of matching entries, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action.endswith("."):
            query = query.where(AuditEntry.action.startswith(self.action, autoescape=True))
        elif self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.object_type:
            query = query.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEntry.object_id == self.object_id)
        if self.since:
            query = query.where(AuditEntry.at >= _china_midnight(self.since))
        if self.until:
            query = query.where(AuditEntry.at < _china_midnight(self.until + timedelta(days=1)))
        return query


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=CST).astimezone(UTC)


def split_detail(detail: dict | None) -> tuple[object, object, dict]:
    """(before, after, the rest) of an entry's detail; before/after are None when the entry has none."""
    rest = dict(detail or {})
    return rest.pop("before", None), rest.pop("after", None), rest


def choices() -> dict[str, list[str]]:
    """The actors, actions and object types present in the log, for the filter's drop-down lists."""
    return {
        name: list(db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column)))
        for name, column in (
            ("actor", AuditEntry.actor),
            ("action", AuditEntry.action),
            ("object_type", AuditEntry.object_type),
        )
    }


def _json(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def export_csv(flt: AuditFilter) -> bytes:
    """The matching entries as CSV (`spreadsheets.csv_bytes`: UTF-8 with BOM, text neutralised against formulas),
    newest first, at most EXPORT_LIMIT rows, China time: `at,actor,action,object_type,object_id,before,after,detail`."""
    rows = []
    for entry in db.session.scalars(flt.query().limit(EXPORT_LIMIT)):
        before, after, rest = split_detail(entry.detail)
        rows.append(
            [
                format_cst(entry.at, "%Y-%m-%d %H:%M:%S"),
                entry.actor,
                entry.action,
                entry.object_type,
                entry.object_id,
                _json(before),
                _json(after),
                _json(rest or None),
            ]
        )
    return csv_bytes(["at", "actor", "action", "object_type", "object_id", "before", "after", "detail"], rows)
