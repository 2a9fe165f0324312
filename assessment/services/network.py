"""The supervision network's people: informants (信息员) send suggestions and reports, the office screens them;
experts (专家) comment on problems; linkage departments (监管联动部门) file problem reports each quarter.

They reach their pages with a personal link or access code (services/access.py, the same keys as raters). An
informant sees only their own reports; nobody but the office sees who sent one. Functions flush only.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import (
    Participant,
    ParticipantKind,
    Period,
    Problem,
    Suggestion,
    SuggestionFile,
    SuggestionKind,
    SuggestionStatus,
)
from ..spreadsheets import csv_bytes
from ..timefmt import CST, china_time
from . import access, audit, ledger, refusals, uploads
from .ledger import LedgerError, ProblemInput, parse_date
from .workdays import china_today

UPLOAD_AREA = "suggestions"


# --------------------------------------------------------------------------------------------- informants


def submit_suggestion(
    period: Period, informant: Participant, *, kind, unit_id, text, happened_on=None, file=None
) -> Suggestion:
    """An informant's suggestion or report: the unit concerned (optional for a suggestion), what happened, when,
    an optional photo or file (type and size checked; stored under instance/uploads/suggestions/).

    Refuses (LedgerError, naming the field) an empty text, an unknown unit, a report without a unit, a date in
    the future, a bad file; nothing is kept then (a stored file is removed again).
    """
    if informant.kind is not ParticipantKind.INFORMANT:
        raise LedgerError("只有信息员可以报送意见建议。")
    try:
        kind = SuggestionKind(kind or "suggestion")
    except ValueError:
        raise LedgerError("类型：请选择意见建议或问题反映。", "类型") from None
    unit = ledger.find_unit(unit_id, "涉及单位", "涉及单位：请从列表中选择单位。")
    if kind is SuggestionKind.REPORT and unit is None:
        raise LedgerError("涉及单位：反映问题须选择涉及的单位。", "涉及单位")
    text = (text or "").strip()
    if not text:
        raise LedgerError("具体内容：必填。", "具体内容")
    if len(text) > 2000:
        raise LedgerError(f"具体内容：不能超过 2000 个字（现有 {len(text)} 个）。", "具体内容")
    happened = parse_date(happened_on, "发生时间", required=False)
    if happened is not None and happened > china_today():
        raise LedgerError(f"发生时间：{happened} 晚于今天。", "发生时间")
    try:
        stored = next(iter(uploads.store_all([file], UPLOAD_AREA, "照片或附件", max_files=1)), None)
    except uploads.UploadError as exc:
        raise LedgerError(exc.message_zh, "照片或附件") from None
    suggestion = Suggestion(
        period_id=period.id,
        participant_id=informant.id,
        unit_id=unit.id if unit else None,
        kind=kind,
        text=text,
        happened_on=happened,
        status=SuggestionStatus.PENDING,
    )
    db.session.add(suggestion)
    db.session.flush()
    if stored is not None:
        db.session.add(
            SuggestionFile(
                suggestion_id=suggestion.id,
                stored_name=stored.stored_name,
                original_name=stored.original_name,
                content_type=stored.content_type,
                size=stored.size,
            )
        )
        db.session.flush()
    audit.record(
        ledger.participant_actor(informant),
        "suggestion.submit",
        "suggestion",
        suggestion.id,
        kind=kind.value,
        unit=unit.code if unit else None,
        file=bool(stored),
    )
    return suggestion


def links_csv(issued) -> bytes:
    """The CSV of freshly issued participants' links and access codes (access.issue's result): the only place
    they are shown in clear. Links are built by access.link_for, on the BASE_URL setting."""
    return csv_bytes(
        ["code", "name", "kind", "town", "link", "access_code"],
        (
            [
                holder.code,
                holder.name,
                holder.kind.value,
                holder.town.name if holder.town else "",
                access.link_for(holder, token),
                access.format_code(code),
            ]
            for holder, token, code, _key in issued
        ),
    )


def own_suggestions(informant: Participant, period: Period) -> list[Suggestion]:
    """The informant's own suggestions in the period, newest first (never anyone else's)."""
    return list(
        db.session.scalars(
            select(Suggestion)
            .where(Suggestion.participant_id == informant.id, Suggestion.period_id == period.id)
            .order_by(Suggestion.submitted_at.desc(), Suggestion.id.desc())
        )
    )


def screen(suggestion: Suggestion, actor: str, *, valid, note) -> Suggestion:
    """甄别: valid or invalid with a reason (a reason is required for invalid); done once, while pending.

    "Once" holds under concurrency: the status is written by one UPDATE … WHERE status = 'pending', and a second
    clerk whose page was read before the first screening finds no row to change and is refused.
    """
    if suggestion.status is not SuggestionStatus.PENDING:
        raise LedgerError(f"该条已甄别为“{suggestion.status.label}”，不能重复甄别。", "甄别结果")
    if valid not in (True, False):
        raise LedgerError("甄别结果：请选择有效或无效。", "甄别结果")
    note = refusals.text(note, "甄别意见", 2000, required=False, error=LedgerError)
    if not valid and not note:
        raise LedgerError("无效理由：甄别为无效时必须填写理由。", "无效理由")
    status = SuggestionStatus.VALID if valid else SuggestionStatus.INVALID
    changed = db.session.execute(
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.status == SuggestionStatus.PENDING)
        .values(status=status, screened_by=actor, screened_at=datetime.now(UTC), screen_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(suggestion)
    if changed != 1:
        raise LedgerError(f"该条已甄别为“{suggestion.status.label}”，不能重复甄别。", "甄别结果")
    audit.record(actor, "suggestion.screen", "suggestion", suggestion.id, status=status.value, note=note)
    return suggestion


def to_problem(suggestion: Suggestion, actor: str, data: ProblemInput) -> Problem:
    """Turn a valid suggestion into a ledger problem (source informant, the informant kept as its reporter).

    Once only, also under concurrency: the link is written by one UPDATE … WHERE problem_id IS NULL; a second
    clerk converting the same suggestion finds it taken and is refused, and the rollback of the refused request
    removes the problem it filed (and gives its number back).
    """
    if suggestion.status is not SuggestionStatus.VALID:
        raise LedgerError("只有甄别为有效的意见建议可以转为问题。", "甄别结果")
    if suggestion.problem_id is not None:
        raise LedgerError("该条已转为问题，不能重复转办。", "甄别结果")
    data.source = "informant"
    period = db.session.get(Period, suggestion.period_id)
    problem = ledger.file_problem(period, data, actor, reporter=suggestion.participant)
    changed = db.session.execute(
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.problem_id.is_(None))
        .values(problem_id=problem.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise LedgerError("该条已转为问题，不能重复转办。", "甄别结果")
    db.session.refresh(suggestion)
    audit.record(actor, "suggestion.to_problem", "suggestion", suggestion.id, problem=problem.number)
    return problem


def suggestions(period: Period, status: SuggestionStatus | None = None) -> list[Suggestion]:
    """The period's suggestions for the office, newest first."""
    query = select(Suggestion).where(Suggestion.period_id == period.id)
    if status is not None:
        query = query.where(Suggestion.status == status)
    return list(db.session.scalars(query.order_by(Suggestion.submitted_at.desc(), Suggestion.id.desc())))


@dataclass
class Count:
    collected: int = 0
    valid: int = 0


def informant_counts(period: Period) -> dict[str, dict]:
    """Collected and valid suggestions per informant, per town and per month (China time), as Zhucheng reports
    them (39 collected, 21 valid): ``{"total": Count, "informants": [(participant, Count)], "towns": [(name,
    Count)], "months": [("2026-03", Count)]}``. Informants without any suggestion are listed with zeros."""
    informants = list(
        db.session.scalars(
            select(Participant).where(Participant.kind == ParticipantKind.INFORMANT).order_by(Participant.code)
        )
    )
    by_informant, by_town, by_month = defaultdict(Count), defaultdict(Count), defaultdict(Count)
    total = Count()
    rows = db.session.execute(
        select(Suggestion.participant_id, Suggestion.status, Suggestion.submitted_at).where(
            Suggestion.period_id == period.id
        )
    ).all()
    towns = {p.id: (p.town.name if p.town else "未分镇街") for p in informants}
    for participant_id, status, submitted_at in rows:
        valid = status is SuggestionStatus.VALID
        month = china_time(submitted_at).strftime("%Y-%m")
        for count in (
            total,
            by_informant[participant_id],
            by_town[towns.get(participant_id, "未分镇街")],
            by_month[month],
        ):
            count.collected += 1
            count.valid += valid
    return {
        "total": total,
        "informants": [(p, by_informant.get(p.id, Count())) for p in informants],
        "towns": sorted(by_town.items()),
        "months": sorted(by_month.items()),
    }


# --------------------------------------------------------------------------------------------- linkage departments


def linkage_file(period: Period, department: Participant, data: ProblemInput) -> Problem:
    """A linkage department's problem report: a ledger problem with source linkage and the department."""
    if department.kind is not ParticipantKind.LINKAGE:
        raise LedgerError("只有联动部门可以报送问题。")
    data.source = "linkage"
    return ledger.file_problem(period, data, ledger.participant_actor(department), reporter=department)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a quarter."""
    last_month = 3 * quarter
    return date(year, last_month - 2, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])


def linkage_reporting(year: int, quarter: int) -> list[tuple[Participant, int]]:
    """Each active linkage department with the number of problems it reported in the quarter (by the moment it
    was filed, China time); those with 0 have not reported (季末未报送名单)."""
    departments = list(
        db.session.scalars(
            select(Participant)
            .where(Participant.kind == ParticipantKind.LINKAGE, Participant.active.is_(True))
            .order_by(Participant.code)
        )
    )
    first, last = quarter_bounds(year, quarter)
    start = datetime.combine(first, time.min, CST)
    end = datetime.combine(last + timedelta(days=1), time.min, CST)
    counts = dict(
        db.session.execute(
            select(Problem.reporter_id, func.count())
            .where(
                Problem.reporter_id.in_([d.id for d in departments]),
                Problem.created_at >= start,
                Problem.created_at < end,
            )
            .group_by(Problem.reporter_id)
        ).all()
    )
    return [(d, counts.get(d.id, 0)) for d in departments]


def department_problems(department: Participant, period: Period) -> list[Problem]:
    """The problems this department reported in the period, newest first (its own list)."""
    return list(
        db.session.scalars(
            select(Problem)
            .where(Problem.reporter_id == department.id, Problem.period_id == period.id)
            .order_by(Problem.year.desc(), Problem.seq.desc())
        )
    )


# --------------------------------------------------------------------------------------------- experts


def expert_problems(period: Period) -> list[Problem]:
    """What an expert may comment on: the period's problems, by number (no reporter identities)."""
    return list(
        db.session.scalars(select(Problem).where(Problem.period_id == period.id).order_by(Problem.year, Problem.seq))
    )
