"""The per-unit rating counts scoring reads (rating_counts), and the check that they equal a full recount.

The database keeps rating_counts exact with triggers on public_ratings (migration 0005): whatever writes a
rating — the device API, an import, the demo city, an exclusion — changes the counts in the same transaction.
`mismatches` recounts every stored rating with a GROUP BY and lists where the two differ; it is what the tests
run after ingest, import, exclusion and re-import, and what an operator can run after a manual repair.
"""

from sqlalchemy import func, select

from ...models import PublicRating, RatingCount
from .connection import run

_R = PublicRating.__table__
_C = RatingCount.__table__
_KEY = ("period_id", "unit_id", "level", "is_default")


def mismatches(period_id: int | None = None) -> list[dict]:
    """Keys (period_id, unit_id, level, is_default) where rating_counts differs from a recount of the ratings.

    Each entry holds the key, `kept` (the aggregate's n, 0 when it has no row) and `counted` (the recount).
    Empty when the aggregate is exact. Rows of the aggregate at 0 match keys without ratings.
    """
    recount = (
        select(*(_R.c[k] for k in _KEY), func.count().label("n"))
        .where(_R.c.excluded.is_(False))
        .group_by(*(_R.c[k] for k in _KEY))
    )
    kept = select(*(_C.c[k] for k in _KEY), _C.c.n)
    if period_id is not None:
        recount = recount.where(_R.c.period_id == period_id)
        kept = kept.where(_C.c.period_id == period_id)
    counted = {(p, u, lv, bool(d)): n for p, u, lv, d, n in run(recount)}
    stored = {(p, u, lv, bool(d)): n for p, u, lv, d, n in run(kept)}
    out = []
    for key in sorted(set(counted) | set(stored)):
        if counted.get(key, 0) != stored.get(key, 0):
            out.append(
                {**dict(zip(_KEY, key, strict=False)), "kept": stored.get(key, 0), "counted": counted.get(key, 0)}
            )
    return out
