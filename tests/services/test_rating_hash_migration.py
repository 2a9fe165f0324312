"""The frozen hash in migration 0004 is the app's content hash for imported ratings."""

import importlib.util
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from assessment.services.ratings.hashing import content_hash

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0004_one_rating_content_hash.py"


def _migration():
    spec = importlib.util.spec_from_file_location("m0004", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_hash_equals_the_app_hash():
    """Does migration 0004 re-hash an imported rating exactly as an import computes it now?"""
    m = _migration()
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    cases = [
        ("e1", "U001", 5, "window", moment, None, None, None, False, None),
        ("e2", "U002", 1, "hotline", moment, "C-9", "办证", "S01", True, "1号窗口"),
    ]
    for event_id, unit, level, channel, at, case_no, item, staff, default, window in cases:
        expected = content_hash(
            event_id,
            unit,
            level,
            channel,
            at,
            case_no=case_no,
            service_item=item,
            staff_code=staff,
            is_default=default,
            window=window,
        )
        assert (
            m._content_hash(event_id, unit, level, channel, at.astimezone(UTC), case_no, item, staff, default, window)
            == expected
        )
