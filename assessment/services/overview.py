"""Counts for the console's overview."""

from sqlalchemy import func

from ..extensions import db
from ..models import (
    Assignment,
    BonusItem,
    CheckPoint,
    Participant,
    Period,
    Problem,
    PublicRating,
    Rater,
    Response,
    ResponseVersion,
    Town,
    Unit,
)


def totals() -> dict:
    """City-wide counts of the master data."""
    return {
        "units": db.session.scalar(db.select(func.count()).select_from(Unit)),
        "towns": db.session.scalar(db.select(func.count()).select_from(Town)),
        "raters": db.session.scalar(db.select(func.count()).select_from(Rater)),
        "participants": db.session.scalar(db.select(func.count()).select_from(Participant)),
    }


def _per_period(model, *where):
    query = db.select(model.period_id, func.count()).group_by(model.period_id)
    for clause in where:
        query = query.where(clause)
    return dict(db.session.execute(query).all())


def period_counts() -> list[dict]:
    """For each period, what it holds: assignments, submitted responses, ratings, check points, problems."""
    submitted = dict(
        db.session.execute(
            db.select(Assignment.period_id, func.count(func.distinct(Response.id)))
            .join(Response, Response.assignment_id == Assignment.id)
            .join(ResponseVersion, ResponseVersion.response_id == Response.id)
            .group_by(Assignment.period_id)
        ).all()
    )
    assignments = _per_period(Assignment)
    ratings = _per_period(PublicRating)
    checkpoints = _per_period(CheckPoint)
    problems = _per_period(Problem)
    bonuses = _per_period(BonusItem)
    rows = []
    for period in db.session.execute(db.select(Period).order_by(Period.name.desc())).scalars():
        rows.append(
            {
                "period": period,
                "assignments": assignments.get(period.id, 0),
                "submitted": submitted.get(period.id, 0),
                "ratings": ratings.get(period.id, 0),
                "checkpoints": checkpoints.get(period.id, 0),
                "problems": problems.get(period.id, 0),
                "bonuses": bonuses.get(period.id, 0),
            }
        )
    return rows
