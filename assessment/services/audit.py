"""Writing to the append-only audit log."""

from ..extensions import db
from ..models import AuditEntry


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
