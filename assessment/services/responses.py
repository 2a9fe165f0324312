"""Responses (答卷): drafts as the rater goes, exactly-once submission, and the office's return, invalid mark
and correction — each a recorded change with who, when and why, never a deletion.

Exactly once. Every write to an assignment's response starts with one conditional UPDATE of the assignment row
(`state <> 'submitted'` for the rater's writes). That statement takes the row lock on PostgreSQL and the write
lock on SQLite, so concurrent requests for the same assignment run one after the other, and the loser's UPDATE
matches no row once the winner has committed: it answers "already submitted" (AlreadySubmitted). Behind it,
UNIQUE(response_id, version) refuses a second version with the same number whatever happens. Drafts use the
same lock, so answers saved at the same moment from two tabs or a phone coming back online are all kept (a
read-modify-write of the draft without the lock would lose one).

Drafts: ``Response.draft`` maps question id → value, None for 不了解; a question not in it is unanswered. Saving
an answer again with the same value changes nothing, so a browser may resend answers it kept offline.

Submission stores every question of the instrument: unanswered questions are stored as 不了解 (None) — the
rater is shown them and confirms first — or refused when the instrument does not offer 不了解.

Returned (退回): the assignment is back in progress with the last submitted answers as its draft; the submitted
version stays and keeps counting until the rater submits again (mark it invalid to leave it out at once).
Invalid: a submitted version is marked (who, when, why); scoring counts the latest valid version of a
response. Correction: the office keys in answers as a new version (source ``correction``) with who and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from surveys import AnswerError

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    AssignmentState,
    Instrument,
    PeriodState,
    Response,
    ResponseSource,
    ResponseVersion,
)
from . import audit
from .refusals import Refused


class ResponseError(Refused):
    """A change to a response that cannot be made; ``message`` says why in Chinese, ``code`` for programs.

    Codes: closed (period not open), already_submitted, not_submitted, invalid_answer, unanswered,
    reason_missing, already_invalid, not_invalid.
    """

    def __init__(self, code: str, message: str, **detail):
        super().__init__(message)
        self.code = code
        self.message = message  # the same as message_zh
        self.detail = detail


class AlreadySubmitted(ResponseError):
    def __init__(self):
        super().__init__("already_submitted", "该问卷已经提交，答案不能再修改。")


# --- definitions --------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _definition(fingerprint: str, text: str, key: str):
    from surveys import load_definition

    return load_definition(text, source=f"{key}.yaml", expected_key=key)


def definition(instrument: Instrument):
    """The validated definition (surveys.InstrumentDefinition) an instrument was stored with (cached)."""
    return _definition(instrument.fingerprint, instrument.definition, instrument.key)


def parse_answers(defn, raw: dict) -> dict[str, float | None]:
    """Parse raw answers {question id: text or number} through the answer-type registry.

    ``na`` / ``不了解`` → None (don't know). ResponseError('invalid_answer') names the question (题号 and text).
    An empty string is not parsed here: save_draft treats it as "clear this answer".
    """
    parsed = {}
    for qid, value in raw.items():
        try:
            parsed[qid] = defn.parse_answer(qid, value)
        except AnswerError as exc:
            try:
                q = defn.question(qid)
                where = f"第 {defn.questions.index(q) + 1} 题（{q.text[:20]}…）"
            except KeyError:
                where = f"题目 {qid}"
            raise ResponseError("invalid_answer", f"{where}：{exc.message_zh}", question=qid) from None
    return parsed


def unanswered(defn, answers: dict | None) -> list[str]:
    """Question ids of the instrument with no answer yet (不了解 is an answer), in order."""
    answers = answers or {}
    return [q.id for q in defn.questions if q.id not in answers]


# --- locking ------------------------------------------------------------------------------------------------


def _lock_for_rater(assignment: Assignment, new_state: AssignmentState) -> None:
    """Move a not-yet-submitted assignment to `new_state`, holding its row; else AlreadySubmitted."""
    result = db.session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.state != AssignmentState.SUBMITTED)
        .values(state=new_state)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        set_committed_value(assignment, "state", AssignmentState.SUBMITTED)
        raise AlreadySubmitted()
    set_committed_value(assignment, "state", new_state)


def _lock_for_office(assignment: Assignment) -> None:
    """Hold the assignment's row whatever its state (office changes), re-reading its state."""
    db.session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id)
        .values(state=Assignment.state)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(assignment, ["state"])


def _response(assignment: Assignment, create: bool = True) -> Response | None:
    """The assignment's response read fresh after the lock (another request may just have changed it)."""
    response = db.session.execute(
        select(Response).where(Response.assignment_id == assignment.id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if response is None and create:
        response = Response(assignment_id=assignment.id, current_version=0, draft={})
        db.session.add(response)
        db.session.flush()
    return response


def _require_open(assignment: Assignment) -> None:
    period = assignment.period
    if period.state is not PeriodState.OPEN:
        if period.state is PeriodState.DRAFT:
            raise ResponseError("closed", f"{period.name} 年度评价尚未开始，暂不能填写。")
        raise ResponseError("closed", f"{period.name} 年度评价已截止，不能再修改或提交。")


# --- the rater's writes -------------------------------------------------------------------------------------


def save_draft(assignment: Assignment, answers: dict, now: datetime | None = None) -> Response:
    """Keep answers (some or all questions) in the server-side draft; an empty value clears that answer.

    Raises ResponseError (period not open, a bad answer naming its question) or AlreadySubmitted. Answers are
    checked before anything is written, so a bad one stores nothing. Only flushes.
    """
    _require_open(assignment)
    defn = definition(assignment.instrument)
    cleared = [qid for qid, v in answers.items() if v is None or (isinstance(v, str) and not v.strip())]
    parsed = parse_answers(defn, {q: v for q, v in answers.items() if q not in cleared})
    known = {q.id for q in defn.questions}
    for qid in cleared:
        if qid not in known:
            raise ResponseError("invalid_answer", f"题目 {qid} 不在该问卷中。", question=qid)
    _lock_for_rater(assignment, AssignmentState.IN_PROGRESS)
    response = _response(assignment)
    draft = dict(response.draft or {})
    draft.update(parsed)
    for qid in cleared:
        draft.pop(qid, None)
    if draft != (response.draft or {}) or response.draft_saved_at is None:
        response.draft = draft
        response.draft_saved_at = now or datetime.now(UTC)
    db.session.flush()
    return response


def submit(assignment: Assignment, now: datetime | None = None) -> ResponseVersion:
    """Make the draft final: exactly one new submitted version, with every question (unanswered → 不了解).

    AlreadySubmitted when it was submitted before (also by a concurrent request: see the module docstring);
    ResponseError('unanswered') when questions are unanswered and the instrument does not offer 不了解.
    """
    _require_open(assignment)
    defn = definition(assignment.instrument)
    _lock_for_rater(assignment, AssignmentState.IN_PROGRESS)  # hold the row while the draft is checked
    response = _response(assignment)
    draft = dict(response.draft or {})
    missing = unanswered(defn, draft)
    if missing and not defn.allow_na:
        raise ResponseError("unanswered", f"还有 {len(missing)} 道题未作答，请答完后再提交。", questions=missing)
    _lock_for_rater(assignment, AssignmentState.SUBMITTED)  # still ours: the row is held
    now = now or datetime.now(UTC)
    version = _add_version(response, {q.id: draft.get(q.id) for q in defn.questions}, ResponseSource.WEB, now)
    response.draft = None
    response.returned_at = response.returned_by = response.return_reason = None
    db.session.flush()
    return version


def _add_version(
    response: Response,
    values: dict,
    source: ResponseSource,
    now: datetime,
    actor: str | None = None,
    reason: str | None = None,
) -> ResponseVersion:
    number = response.current_version + 1
    version = ResponseVersion(
        response_id=response.id,
        version=number,
        submitted_at=now,
        source=source,
        recorded_by=actor,
        reason=reason,
    )
    db.session.add(version)
    db.session.flush()  # UNIQUE(response_id, version): a second writer of the same number stops here
    db.session.execute(
        Answer.__table__.insert(),
        [{"version_id": version.id, "question": q, "value": v} for q, v in values.items()],
    )
    response.current_version = number
    return version


# --- the office's changes -----------------------------------------------------------------------------------


def _reason(reason: str | None, field: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ResponseError("reason_missing", f"{field}：请填写原因。")
    if len(reason) > 1000:
        raise ResponseError("reason_missing", f"{field}：原因不能超过 1000 字。")
    return reason


def latest_answers(response: Response) -> dict[str, float | None]:
    """The answers of the response's latest submitted version (empty when never submitted)."""
    if not response.current_version:
        return {}
    rows = db.session.execute(
        select(Answer.question, Answer.value)
        .join(ResponseVersion, Answer.version_id == ResponseVersion.id)
        .where(ResponseVersion.response_id == response.id, ResponseVersion.version == response.current_version)
    ).all()
    return {q: v for q, v in rows}


def return_to_rater(assignment: Assignment, actor: str, reason: str) -> Response:
    """退回: send a submitted questionnaire back to its rater with a reason (audited).

    The rater finds the last submitted answers as a draft, revises and submits again (a new version). Refused
    unless the period is open (the rater could not change anything) and the response is submitted.
    """
    reason = _reason(reason, "退回原因")
    _require_open(assignment)
    _lock_for_office(assignment)
    response = _response(assignment, create=False)
    if assignment.state is not AssignmentState.SUBMITTED or response is None or not response.current_version:
        raise ResponseError("not_submitted", "该问卷尚未提交，无需退回。")
    response.draft = latest_answers(response)
    response.returned_at, response.returned_by, response.return_reason = datetime.now(UTC), actor, reason
    assignment.state = AssignmentState.IN_PROGRESS
    db.session.flush()
    audit.record(
        actor,
        "response.return",
        "response",
        response.id,
        assignment=assignment.id,
        version=response.current_version,
        reason=reason,
    )
    return response


def mark_invalid(version: ResponseVersion, actor: str, reason: str) -> ResponseVersion:
    """Mark a submitted version invalid (left out of scoring) with who, when and why; the answers stay."""
    reason = _reason(reason, "无效原因")
    if version.invalid_at is not None:
        raise ResponseError("already_invalid", "该版本已标记为无效。")
    version.invalid_at, version.invalid_by, version.invalid_reason = datetime.now(UTC), actor, reason
    db.session.flush()
    audit.record(
        actor,
        "response.invalid",
        "response_version",
        version.id,
        response=version.response_id,
        version=version.version,
        reason=reason,
    )
    return version


def mark_valid(version: ResponseVersion, actor: str, reason: str) -> ResponseVersion:
    """Undo an invalid mark (the earlier mark stays in the audit log with its reason)."""
    reason = _reason(reason, "恢复原因")
    if version.invalid_at is None:
        raise ResponseError("not_invalid", "该版本未被标记为无效。")
    audit.record(
        actor,
        "response.valid",
        "response_version",
        version.id,
        response=version.response_id,
        version=version.version,
        reason=reason,
        was_invalid_by=version.invalid_by,
        was_invalid_reason=version.invalid_reason,
    )
    version.invalid_at = version.invalid_by = version.invalid_reason = None
    db.session.flush()
    return version


def correct(
    assignment: Assignment, answers: dict, actor: str, reason: str, now: datetime | None = None
) -> ResponseVersion:
    """Key in a correction (e.g. from the paper form): a new version, source ``correction``, with who and why.

    ``answers`` must answer every question (na for 不了解); allowed in any period state (a published result is
    frozen anyway: scoring again makes a new result version). The assignment becomes submitted.
    """
    reason = _reason(reason, "更正原因")
    defn = definition(assignment.instrument)
    parsed = parse_answers(defn, answers)
    missing = unanswered(defn, parsed)
    if missing:
        raise ResponseError("unanswered", f"更正须答全所有题目，缺少：{'、'.join(missing)}", questions=missing)
    _lock_for_office(assignment)
    response = _response(assignment)
    now = now or datetime.now(UTC)
    version = _add_version(
        response,
        {q.id: parsed[q.id] for q in defn.questions},
        ResponseSource.CORRECTION,
        now,
        actor=actor,
        reason=reason,
    )
    response.draft = None
    response.returned_at = response.returned_by = response.return_reason = None
    assignment.state = AssignmentState.SUBMITTED
    db.session.flush()
    audit.record(
        actor,
        "response.correct",
        "response",
        response.id,
        assignment=assignment.id,
        version=version.version,
        reason=reason,
    )
    return version


# --- reading ------------------------------------------------------------------------------------------------


def straight_lined(answer_sets: list[dict]) -> bool:
    """Did the rater give exactly the same answers to every unit (at least three units answered)?

    ``answer_sets``: one {question id: value} per unit of one instrument. Units with no real answer (all 不了解
    or nothing) are left out; this is the straight-lining check of the submit page (asked once more, not
    refused).
    """
    rated = [tuple(sorted(s.items())) for s in answer_sets if any(v is not None for v in s.values())]
    return len(rated) >= 3 and len(set(rated)) == 1


def answers_by_assignment(assignments: list[Assignment]) -> dict[int, dict[str, float | None]]:
    """What the rater sees for each assignment: the draft while in progress, the latest submitted answers once
    submitted; one query for all the submitted ones (the rater's pages, the office's response view)."""
    result: dict[int, dict] = {}
    submitted = {}
    for a in assignments:
        response = a.response
        if response is None:
            result[a.id] = {}
        elif a.state is AssignmentState.SUBMITTED and response.current_version:
            submitted[response.id] = a.id
            result[a.id] = {}
        else:
            result[a.id] = dict(response.draft or {})
    ids = list(submitted)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(ResponseVersion.response_id, Answer.question, Answer.value)
            .join(Answer, Answer.version_id == ResponseVersion.id)
            .join(
                Response,
                (Response.id == ResponseVersion.response_id) & (Response.current_version == ResponseVersion.version),
            )
            .where(ResponseVersion.response_id.in_(ids[start : start + 500]))
        )
        for response_id, question, value in rows:
            result[submitted[response_id]][question] = value
    return result
