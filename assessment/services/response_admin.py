"""The data administrators' view of single responses (答卷管理): lists and one response's whole history.

Reading only; the changes (退回, 作废, 更正) are services/responses.py. These functions put a rater's identity next
to answers, so only the data administrators' pages call them (office/surveys.py checks the role).
"""

from dataclasses import dataclass

from sqlalchemy import exists, or_
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    AssignmentState,
    Instrument,
    Rater,
    Response,
    ResponseVersion,
    Unit,
)
from . import responses as response_service

#: The list's filters: key -> label.
SHOW = {
    "submitted": "已提交",
    "in_progress": "填写中",
    "not_opened": "未开始",
    "returned": "已退回",
    "invalid": "含无效版本",
    "all": "全部",
}


def list_responses(
    period,
    show: str = "submitted",
    unit_code: str | None = None,
    rater_code: str | None = None,
    instrument: str | None = None,
    page: int = 1,
    per_page: int = 50,
):
    """A page (Flask-SQLAlchemy Pagination) of the period's assignments with their response, filtered.

    `show` is a key of SHOW; `unit_code`, `rater_code` exact codes; `instrument` an instrument key.
    Items are Assignments (rater, unit, instrument and response loaded), by rater code, instrument and unit.
    """
    query = (
        db.select(Assignment)
        .options(
            contains_eager(Assignment.rater),
            contains_eager(Assignment.unit),
            contains_eager(Assignment.instrument),
            contains_eager(Assignment.response),
        )
        .join(Rater, Assignment.rater_id == Rater.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id)
        .order_by(Rater.code, Instrument.key, Unit.code)
    )
    if show in ("submitted", "in_progress", "not_opened"):
        query = query.where(Assignment.state == AssignmentState(show))
    elif show == "returned":
        query = query.where(Response.returned_at.is_not(None))
    elif show == "invalid":
        query = query.where(
            exists().where(ResponseVersion.response_id == Response.id, ResponseVersion.invalid_at.is_not(None))
        )
    if unit_code:
        query = query.where(Unit.code == unit_code)
    if rater_code:
        query = query.where(or_(Rater.code == rater_code, Rater.name == rater_code))
    if instrument:
        query = query.where(Instrument.key == instrument)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


@dataclass
class VersionView:
    """One submitted version with its answers {question id: value or None for 不了解}."""

    version: ResponseVersion
    answers: dict


def history(assignment: Assignment) -> dict:
    """Everything about one assignment's response, oldest version first: the definition (questions and
    scales), the versions with their answers, the current draft, and whether it was returned."""
    response = assignment.response
    versions = []
    if response is not None:
        rows = db.session.execute(
            db.select(ResponseVersion, Answer.question, Answer.value)
            .outerjoin(Answer, Answer.version_id == ResponseVersion.id)
            .where(ResponseVersion.response_id == response.id)
            .order_by(ResponseVersion.version, Answer.id)
        ).all()
        by_id = {}
        for version, question, value in rows:
            view = by_id.get(version.id)
            if view is None:
                view = by_id[version.id] = VersionView(version, {})
                versions.append(view)
            if question is not None:
                view.answers[question] = value
    return {
        "definition": response_service.definition(assignment.instrument),
        "response": response,
        "versions": versions,
        "draft": dict(response.draft or {}) if response is not None else {},
        "current": response_service.answers_by_assignment([assignment])[assignment.id],
    }


def answer_label(scale, value) -> str:
    """An answer as the office reads it: '4 · 满意', a number for score100, 不了解 for None."""
    if value is None:
        return "不了解"
    number = int(value) if float(value).is_integer() else value
    label = scale.labels.get(int(value)) if scale is not None and scale.labels and number == int(value) else None
    return f"{number} · {label}" if label else str(number)
