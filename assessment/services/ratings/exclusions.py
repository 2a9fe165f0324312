"""Excluding a public rating from scoring (剔除), or counting it again: the office's decision, audited.

Nothing is ever deleted: an excluded rating stays stored, with the reason; the audit log says who and when.
"""

from ...extensions import db
from ...models import PublicRating
from .. import audit


class RatingError(ValueError):
    """A change the office cannot make to a rating; the message is in Chinese (console)."""


def set_excluded(rating_id: int, excluded: bool, reason: str, actor: str) -> PublicRating:
    """Exclude a rating from scoring, or count it again, with a reason (audited); nothing is ever deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise RatingError("请填写理由")
    rating = db.session.get(PublicRating, rating_id)
    if rating is None:
        raise RatingError("评价不存在")
    if rating.excluded == excluded:
        raise RatingError("该评价已剔除" if excluded else "该评价未被剔除")
    rating.excluded = excluded
    rating.excluded_reason = reason if excluded else None
    audit.record(
        actor,
        "rating.exclude" if excluded else "rating.include",
        "public_rating",
        rating.id,
        reason=reason,
        unit_id=rating.unit_id,
        level=rating.level,
        flags=rating.flags,
    )
    db.session.flush()
    return rating
