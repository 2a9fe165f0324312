"""The problem ledger (问题台账): filing, pushing to the unit, the unit's rectification report, acceptance and
close-out (销号), look-back (回头看), escalation (约谈 / 函告 / 通报), expert comments. The lists, the CSV and the
push sheet are in ledger_lists.py.

Every state change goes through ``Problem.move`` (the transition table on the model), is written as a
ProblemStep (what, when, who, note, files) and as an audit entry. Functions flush only; the request or the CLI
command commits. Errors are ``LedgerError`` with a Chinese message that names the field.

Numbers (YYYY-NNNN) are given when a problem is first written (services/ledger_numbers.py).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import labels
from ..extensions import db
from ..models import (
    Participant,
    Period,
    Problem,
    ProblemAction,
    ProblemClass,
    ProblemSource,
    ProblemState,
    ProblemStep,
    ProblemTransitionError,
    Severity,
    StepFile,
    Unit,
)
from ..models.ledger import ESCALATION_STEPS
from ..urls import positive_int
from . import audit, refusals, uploads
from .claims import claim
from .refusals import Refused
from .workdays import china_today

#: Rectification time when the office gives no deadline: three months from the finding.
DEFAULT_MONTHS = 3
#: Where evidence files are stored (instance/uploads/<area>/).
UPLOAD_AREA = "problems"
#: Most evidence files one step may carry.
MAX_FILES = 10
#: The refusal of a second problem with the same unit, title and day (the ledger's natural key).
DUPLICATE_ZH = "问题标题：本单位同日已登记同一问题。"
#: The refusal when another person changed the problem between reading and writing it.
STALE_ZH = "状态：有人刚刚处理了这个问题，请刷新页面查看后再操作。"


class LedgerError(Refused):
    """A refused ledger action; ``message_zh`` names the field and says why."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 11-30 + 3 → 02-28/29)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_deadline(found_on: date) -> date:
    """整改期限 by default: three months after the finding."""
    return add_months(found_on, DEFAULT_MONTHS)


def working_date(period: Period, today: date | None = None) -> date:
    """The day the console's overdue lists are judged on: today (China), but never after the period's as_of."""
    today = today or china_today()
    return min(today, period.as_of)


def participant_actor(participant: Participant) -> str:
    """How a participant (informant, expert, linkage department) is named as the actor of a step or audit entry."""
    return f"participant:{participant.code}"


def _now():
    return datetime.now(UTC)


def _text(value, field_zh, max_len=None, required=True) -> str | None:
    return refusals.text(value, field_zh, max_len, required, error=LedgerError)


def find_unit(unit_id, field_zh: str, message_zh: str) -> Unit | None:
    """The unit a form names by id (None when none is named); LedgerError(message_zh) for anything that is not the
    id of a unit, including numbers past the database's integer range."""
    if unit_id in (None, ""):
        return None
    try:
        unit = db.session.get(Unit, positive_int(unit_id))
    except (TypeError, ValueError):
        unit = None
    if unit is None:
        raise LedgerError(message_zh, field_zh)
    return unit


def parse_date(value, field_zh, required=True) -> date | None:
    """A date typed as YYYY-MM-DD (a date object passes through); LedgerError naming the field otherwise."""
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        if required:
            raise LedgerError(f"{field_zh}：必填。", field_zh)
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"{field_zh}：“{text}”不是有效日期（格式：2026-03-01）。", field_zh) from None


def _choice(enum_cls, value, field_zh, table):
    """The member of `enum_cls` whose value is a key of `table` ({value: Chinese label}); refuses anything else."""
    raw = value.value if isinstance(value, enum_cls) else (value or "").strip()
    if raw not in table:
        allowed = "、".join(table.values())
        raise LedgerError(f"{field_zh}：请选择（{allowed}）。", field_zh)
    return enum_cls(raw)


def _step(problem, action, actor, *, on=None, note=None, participant=None) -> ProblemStep:
    """Move the problem by ``action`` (refusing a wrong state) and record the step and the audit entry."""
    try:
        problem.move(action)
    except ProblemTransitionError as exc:
        raise LedgerError(exc.message, "状态") from None
    claim(problem, LedgerError(STALE_ZH, "状态"))
    step = ProblemStep(
        problem=problem,
        action=action,
        on=on or china_today(),
        note=note,
        actor=actor,
        participant_id=participant.id if participant is not None else None,
        state_after=problem.state,
    )
    db.session.add(step)
    db.session.flush()
    audit.record(
        actor,
        f"problem.{action.value}",
        "problem",
        problem.id,
        number=problem.number,
        state=problem.state.value,
        on=step.on.isoformat(),
        note=note,
    )
    return step


def _stored(files, field_zh="佐证材料") -> list[uploads.StoredFile]:
    """Check and store a step's evidence files before anything is written (all or none)."""
    try:
        return uploads.store_all(files, UPLOAD_AREA, field_zh, MAX_FILES)
    except uploads.UploadError as exc:
        raise LedgerError(exc.message_zh, field_zh) from None


def _step_with_files(problem, action, actor, files, **step_args) -> ProblemStep:
    """A step with its evidence files: the files are checked and stored first, so a bad file refuses before the
    state moves; a refused move removes the stored files again."""
    stored = _stored(files)
    try:
        step = _step(problem, action, actor, **step_args)
    except LedgerError:
        uploads.remove_all(UPLOAD_AREA, stored)
        raise
    rows = [
        StepFile(
            step_id=step.id,
            stored_name=s.stored_name,
            original_name=s.original_name,
            content_type=s.content_type,
            size=s.size,
        )
        for s in stored
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        audit.record(
            actor, "problem.file_added", "problem", step.problem_id, step=step.id, file=row.original_name, size=row.size
        )
    return step


# --------------------------------------------------------------------------------------------- filing


@dataclass
class ProblemInput:
    """What a form or a linkage department gives to file a problem (text as typed; parsed by ``file_problem``)."""

    #: Missing fields arrive as None and are refused by ``file_problem`` with the field's Chinese name.
    unit_id: int | str | None = None
    title: str | None = None
    severity: str | Severity = "general"
    found_on: str | date | None = None
    deadline: str | date | None = None
    source: str | ProblemSource = "supervision"
    problem_class: str | ProblemClass = "unit"
    category: str | None = None
    responsible: str | None = None
    description: str | None = None


def _check(data: ProblemInput, period: Period) -> dict:
    message = "被反映单位：请选择单位。"
    unit = find_unit(data.unit_id, "被反映单位", message)
    if unit is None:
        raise LedgerError(message, "被反映单位")
    title = _text(data.title, "问题标题", 500)
    found_on = parse_date(data.found_on, "发现日期", required=False) or china_today()
    deadline = parse_date(data.deadline, "整改期限", required=False) or default_deadline(found_on)
    if deadline < found_on:
        raise LedgerError(f"整改期限：{deadline} 早于发现日期 {found_on}。", "整改期限")
    category = _text(data.category, "问题类别", 100, required=False)
    if category is not None and category not in labels.SUPERVISION_CATEGORIES:
        raise LedgerError(f"问题类别：请选择（{'、'.join(labels.SUPERVISION_CATEGORIES)}）。", "问题类别")
    return {
        "period_id": period.id,
        "unit_id": unit.id,
        "title": title,
        "description": _text(data.description, "问题描述", 5000, required=False),
        "source": _choice(ProblemSource, data.source, "问题来源", labels.PROBLEM_SOURCE_ZH),
        "problem_class": _choice(ProblemClass, data.problem_class, "问题分类", labels.PROBLEM_CLASS_ZH),
        "severity": _choice(Severity, data.severity, "严重程度", labels.SEVERITY_ZH),
        "category": category,
        "found_on": found_on,
        "deadline": deadline,
        "responsible": _text(data.responsible, "责任人", 100, required=False),
    }


def _same_problem(period: Period, values: dict) -> int | None:
    """The id of a problem already filed with this natural key (unit, title, day found) in the period."""
    return db.session.scalar(
        select(Problem.id).where(
            Problem.period_id == period.id,
            Problem.unit_id == values["unit_id"],
            Problem.title == values["title"],
            Problem.found_on == values["found_on"],
        )
    )


def file_problem(period: Period, data: ProblemInput, actor: str, *, reporter: Participant | None = None) -> Problem:
    """登记: a new ledger problem with the next number of its year; the deadline defaults to three months.

    Refuses (LedgerError) a missing unit or title, a deadline before the finding, an unknown category and the
    same title for the same unit found the same day (the ledger's natural key).
    """
    values = _check(data, period)
    if _same_problem(period, values) is not None:
        raise LedgerError(DUPLICATE_ZH, "问题标题")
    problem = Problem(**values, state=ProblemState.OPEN, reporter_id=reporter.id if reporter else None)
    db.session.add(problem)
    try:
        db.session.flush()  # takes the ledger number
    except IntegrityError:
        # A second filing that raced past the check above (a double submit, two clerks) meets the UNIQUE natural
        # key. Not in a savepoint: on SQLite a SAVEPOINT opened outside BEGIN commits when released. The refusal
        # rolls the whole request back, the ledger number included.
        raise LedgerError(DUPLICATE_ZH, "问题标题") from None
    _step(
        problem,
        ProblemAction.FILE,
        actor,
        on=values["found_on"],
        participant=reporter,
        # The reporter is kept in reporter_id, never in the note: units and experts read steps (visible_steps).
        note=f"来源：{problem.source.label}",
    )
    return problem


# --------------------------------------------------------------------------------------------- the workflow


def push(problem: Problem, actor: str, *, note: str | None = None) -> ProblemStep:
    """信息推送: send the problem to its unit (state rectifying); only problems the unit rectifies are pushed."""
    if problem.problem_class is not ProblemClass.UNIT:
        raise LedgerError(f"问题分类为“{problem.problem_class.label}”，由编办处理，无需推送单位。", "问题分类")
    step = _step(problem, ProblemAction.PUSH, actor, note=_text(note, "推送说明", 2000, required=False))
    problem.pushed_at, problem.pushed_by = _now(), actor
    db.session.flush()
    return step


def report_rectification(problem: Problem, actor: str, *, note, on=None, files=()) -> ProblemStep:
    """The unit's rectification report (整改情况) with evidence files; the problem stays rectifying until the
    office accepts it. Refuses an empty report, a date before the finding, a bad file (nothing is kept)."""
    note = _text(note, "整改情况", 5000)
    on = parse_date(on, "整改日期", required=False) or china_today()
    if on < problem.found_on:
        raise LedgerError(f"整改日期：{on} 早于发现日期 {problem.found_on}。", "整改日期")
    return _step_with_files(problem, ProblemAction.REPORT, actor, files, on=on, note=note)


def return_report(problem: Problem, actor: str, *, note) -> ProblemStep:
    """整改不到位: the office sends the report back with its reasons; the unit reports again."""
    return _step(problem, ProblemAction.RETURN, actor, note=_text(note, "退回理由", 2000))


#: The steps each reader outside the office may see: the unit its rectification history (never the filing, whose
#: source may name an informant, nor experts' comments); an expert the comments only.
VISIBLE_ACTIONS = {
    "unit": frozenset(
        (
            ProblemAction.PUSH,
            ProblemAction.REPORT,
            ProblemAction.RETURN,
            ProblemAction.CLOSE,
            ProblemAction.LOOKBACK,
            ProblemAction.REOPEN,
            *ESCALATION_STEPS,
        )
    ),
    "expert": frozenset((ProblemAction.COMMENT,)),
}


def visible_steps(problem: Problem, audience: str) -> list[ProblemStep]:
    """The problem's steps that `audience` ("unit" or "expert") may see, oldest first; pages loop over these and
    never filter the history themselves."""
    allowed = VISIBLE_ACTIONS[audience]
    return [step for step in problem.steps if step.action in allowed]


def evidence_files(problem: Problem) -> list[StepFile]:
    """Every evidence file on the problem's steps, oldest first."""
    return list(
        db.session.scalars(
            select(StepFile)
            .join(ProblemStep, StepFile.step_id == ProblemStep.id)
            .where(ProblemStep.problem_id == problem.id)
            .order_by(StepFile.id)
        )
    )


def close(problem: Problem, actor: str, *, on=None, note, files=()) -> ProblemStep:
    """验收销号: the office accepts the rectification and closes the problem on ``on``.

    Evidence is required: a file on an earlier step (the unit's report) or one given now, and an acceptance
    note. The closing date may not be before the finding.
    """
    note = _text(note, "验收意见", 2000)
    on = parse_date(on, "销号日期", required=False) or china_today()
    if on < problem.found_on:
        raise LedgerError(f"销号日期：{on} 早于发现日期 {problem.found_on}。", "销号日期")
    if not uploads.given(files) and not evidence_files(problem):
        raise LedgerError("佐证材料：销号须有整改佐证材料，请上传或等待单位报送。", "佐证材料")
    step = _step_with_files(problem, ProblemAction.CLOSE, actor, files, on=on, note=note)
    problem.closed_on, problem.evidence = on, note
    db.session.flush()
    return step


def look_back(problem: Problem, actor: str, *, note, on=None, reopen: bool = False, deadline=None) -> ProblemStep:
    """回头看 on a closed problem: confirmed (stays closed) or, when the problem came back, reopened for a new
    rectification with a new deadline (default three months from the look-back)."""
    note = _text(note, "回头看情况", 2000)
    on = parse_date(on, "回头看日期", required=False) or china_today()
    if not reopen:
        return _step(problem, ProblemAction.LOOKBACK, actor, on=on, note=note)
    new_deadline = parse_date(deadline, "新整改期限", required=False) or default_deadline(on)
    if new_deadline < on:
        raise LedgerError(f"新整改期限：{new_deadline} 早于回头看日期 {on}。", "新整改期限")
    old = (problem.deadline, problem.closed_on)
    step = _step(
        problem,
        ProblemAction.REOPEN,
        actor,
        on=on,
        note=f"{note}（原整改期限 {old[0]}，原销号日期 {old[1]}；新整改期限 {new_deadline}）",
    )
    problem.closed_on, problem.evidence, problem.deadline = None, None, new_deadline
    db.session.flush()
    return step


def escalate(problem: Problem, actor: str, action: ProblemAction | str, *, on, note=None) -> ProblemStep:
    """约谈 / 函告 / 通报 for slow rectification, recorded with its date (not on a closed problem)."""
    action = _choice(ProblemAction, action, "督办方式", {a.value: a.label for a in ESCALATION_STEPS})
    on = parse_date(on, "督办日期")
    if on < problem.found_on:
        raise LedgerError(f"督办日期：{on} 早于发现日期 {problem.found_on}。", "督办日期")
    return _step(problem, action, actor, on=on, note=_text(note, "督办说明", 2000, required=False))


def comment(problem: Problem, expert: Participant, text) -> ProblemStep:
    """专家点评 on a problem, in any state; kept as a step with the expert."""
    return _step(
        problem,
        ProblemAction.COMMENT,
        participant_actor(expert),
        note=_text(text, "点评意见", 2000),
        participant=expert,
    )
