"""The period-wide rescan of suspicion flags (services/ratings/flags.py) against the per-row rules."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Channel, CodeSystem, PublicRating, Unit, UnitKind
from assessment.services.bulk import bulk_insert
from assessment.services.imports.kinds.rating_block import to_micros
from assessment.services.periods import get_or_create_period
from assessment.services.ratings.flags import (
    TopRating,
    _in_bursts,
    burst_settings,
    is_odd_hour,
    odd_hours,
    rescan_flags,
)


def _ratings(n=3000, seed=11):
    """A period with n ratings from devices and imports, clustered in time so that some form bursts."""
    period = get_or_create_period("2026", actor="test")  # over its calendar year (the rescan ignores its state)
    units = [Unit(code=f"U{i}", name=f"单位{i}", kind=UnitKind.GOVERNMENT, category="政府部门") for i in range(3)]
    db.session.add_all(units)
    db.session.flush()
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        at = start + timedelta(seconds=rng.choice([rng.randrange(0, 200_000), rng.randrange(0, 3000)]))
        at += timedelta(microseconds=rng.choice([0, 0, 999_999, 1]))
        rows.append(
            {
                "period_id": period.id,
                "unit_id": units[i % 3].id,
                "origin": rng.choice(["d1", "d2", "import", "import"]),
                "event_id": f"e{i}",
                "level": rng.choice([5, 5, 5, 4, 1]),
                "raw_code": 5,
                "code_system": CodeSystem.STANDARD,
                "channel": rng.choice([Channel.WINDOW, Channel.ONLINE]),
                "rated_at": at,
                "received_at": at,
                "is_default": rng.random() < 0.1,
                "content_hash": "0" * 64,
                "stage": "",
                "staff_code": rng.choice([None, "", "S1", "S2"]),
                "flags": None,
                "flagged": False,
                "real_name": False,
                "excluded": False,
            }
        )
    edge = datetime(2026, 6, 1, 16, tzinfo=UTC)  # five top ratings exactly RATING_BURST_SECONDS apart, end to end
    for k in range(5):
        rows.append(
            {**rows[0], "origin": "import", "event_id": f"edge{k}", "level": 5, "is_default": False, "staff_code": "S9"}
            | {"rated_at": edge + timedelta(seconds=30 * k), "channel": Channel.WINDOW}
        )
    bulk_insert(PublicRating, rows)
    return period


def test_the_rescan_flags_what_the_per_row_rules_flag(ctx):
    """Does the period-wide rescan (SQL prefilters, a column-wise sweep) flag exactly the ratings that the
    per-row rules (is_odd_hour, the sliding window of _in_bursts) say are in the odd hours or in a burst?"""
    period = _ratings()
    stored = db.session.execute(
        select(
            PublicRating.id,
            PublicRating.origin,
            PublicRating.event_id,
            PublicRating.unit_id,
            PublicRating.staff_code,
            PublicRating.rated_at,
            PublicRating.level,
            PublicRating.is_default,
            PublicRating.channel,
        )
    ).all()
    odd = {r.id for r in stored if is_odd_hour(r.channel, r.rated_at)}
    groups = {}
    for r in stored:
        if r.level != 5 or r.is_default:
            continue
        row = TopRating(r.id, r.origin, r.event_id, r.unit_id, r.staff_code, r.rated_at)
        if r.origin.startswith("d"):
            groups.setdefault(("d", r.origin), []).append(row)
        if r.staff_code:
            groups.setdefault(("s", r.unit_id, r.staff_code), []).append(row)
    bursts = _in_bursts(groups, *burst_settings())
    assert odd and bursts and len(bursts) < len(stored) / 2  # the data have both, and not everywhere

    assert rescan_flags(period) == {"odd_hour": len(odd), "burst": len(bursts)}
    flags = dict(db.session.execute(select(PublicRating.id, PublicRating.flags)).all())
    assert {i for i, f in flags.items() if f and "odd_hour" in f} == odd
    assert {i for i, f in flags.items() if f and "burst" in f} == bursts
    assert rescan_flags(period) == {"odd_hour": 0, "burst": 0}  # flags are added once


def test_odd_hours_of_a_column_agree_with_the_per_row_rule():
    """Does the import's column-wise odd_hours flag exactly the ratings is_odd_hour flags, at every hour edge?"""
    rng = random.Random(5)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    moments = [start + timedelta(hours=h, microseconds=edge) for h in range(48) for edge in (-1, 0, 1)]
    moments += [start + timedelta(seconds=rng.randrange(0, 400 * 86_400)) for _ in range(2000)]
    channels = [rng.choice(list(Channel)) for _ in moments]
    micros = [to_micros(at) for at in moments]
    expected = [is_odd_hour(channel, at) for channel, at in zip(channels, moments, strict=True)]
    assert odd_hours([c.value for c in channels], micros) == expected
    assert any(expected) and not all(expected)
