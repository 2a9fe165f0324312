"""Imported ratings hashed with the same content hash as the device API (one source for the rule).

Until now an import hashed a JSON list of its fields while the API joined them with "|"; each was compared only
with ratings of its own origin, so both worked, but the rule lived twice. This re-computes the stored hash of
every imported rating with the API's function (frozen here, as migrations must not import the app), so that a
re-import of the same file after the upgrade is still recognised as a duplicate.

Revision ID: 0004
Revises: 0003
"""

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _content_hash(event_id, unit_code, level, channel, rated_at, case_no, service_item, staff_code, is_default, window):
    # Frozen copy of assessment.services.ratings.hashing.content_hash as of this revision (no comment, stage
    # or real_name: imports have none).
    text = "|".join(
        (
            event_id,
            unit_code or "",
            str(level),
            channel,
            rated_at.astimezone(UTC).isoformat(),
            case_no or "",
            service_item or "",
            staff_code or "",
            "",
            "1" if is_default else "0",
        )
    )
    if window is not None:
        text += "|window=" + window
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc(value):
    if isinstance(value, str):  # SQLite without type information
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.event_id, u.code, r.level, r.channel, r.rated_at, r.case_no, r.service_item,"
            ' r.staff_code, r.is_default, r."window" FROM public_ratings r JOIN units u ON u.id = r.unit_id'
            " WHERE r.origin = 'import'"
        )
    ).fetchall()
    updates = [
        {"id": r[0], "h": _content_hash(r[1], r[2], r[3], r[4], _utc(r[5]), r[6], r[7], r[8], bool(r[9]), r[10])}
        for r in rows
    ]
    for start in range(0, len(updates), 5000):
        conn.execute(
            sa.text("UPDATE public_ratings SET content_hash = :h WHERE id = :id"), updates[start : start + 5000]
        )


def downgrade():
    # The old JSON-list hash cannot be told apart from the new one by looking at it; re-importing after a
    # downgrade would report conflicts, so a downgrade below 0004 is refused.
    raise RuntimeError("downgrade below 0004 is not supported")
