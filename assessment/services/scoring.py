"""Scoring a period: gather frames from the database, run `scoring/`, store a result version.

Heavy aggregation happens in the database (ratings are counted per unit, level and default flag by triggers
into rating_counts), so millions of ratings never travel into Python one by one; answers arrive in a shape numpy
reads at once (services/gather.py). Only the latest valid submitted version of each response is read (versions
the office marked invalid are left out). A result version keeps the scheme it used and a fingerprint of its
input data; a published version is never changed: scoring again makes a new version.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import func

import scoring
from scoring.rounding import round2

from ..extensions import db
from ..models import (
    Period,
    PeriodState,
    Result,
    ResultRow,
    ResultState,
    Scheme,
    Unit,
)
from . import audit, computing
from .gather import data_fingerprint, gather_inputs
from .period_lookup import get_period
from .refusals import Refused


class ScoringError(Refused):
    """Scoring or publishing refused: `str()` in English (CLI), `message_zh` for the console."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message_zh)
        self.message = message

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- schemes


#: Anonymity floor (scoring.md "min_n by group"): a scheme may raise these, never lower them, so no group result
#: of fewer raters is ever shown.
MIN_N_FLOOR = {"grassroots": 5, "peer": 3, "deputy": 3, "expert": 3, "leader": 1, "self": 1}


def stored_scheme(period: Period) -> Scheme | None:
    """The period's newest stored scheme version, or None before its first save or score."""
    return db.session.execute(
        db.select(Scheme).filter_by(period_id=period.id).order_by(Scheme.version.desc()).limit(1)
    ).scalar_one_or_none()


def current_scheme(period: Period, actor: str = "system") -> Scheme:
    """The period's newest scheme version, created from the shipped default when the period has none."""
    scheme = stored_scheme(period)
    if scheme is None:
        scheme = _add_scheme(period, scoring.default_scheme_text(), actor, note="默认方案")
    return scheme


def save_scheme(period: Period, text: str, actor: str, note: str | None = None) -> Scheme:
    """Validate `text` and store it as the period's next scheme version (SchemeError lists every problem).

    Besides the engine's checks, a saved scheme may not lower a group's minimum sample below MIN_N_FLOOR.
    """
    parsed = scoring.load_scheme(text)
    too_low = [
        f"min_n.{key}: must be at least {floor} (anonymity: no group result of fewer raters is shown)"
        for key, floor in MIN_N_FLOOR.items()
        if parsed.min_n.get(key, floor) < floor
    ]
    if too_low:
        raise scoring.SchemeError(too_low)
    latest = current_scheme(period, actor)
    if latest.text == text:
        return latest
    return _add_scheme(period, text, actor, note=note)


def _add_scheme(period, text, actor, note=None):
    version = (db.session.scalar(db.select(func.max(Scheme.version)).filter_by(period_id=period.id)) or 0) + 1
    scheme = Scheme(
        period_id=period.id,
        version=version,
        text=text,
        fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        created_by=actor,
        note=note,
    )
    db.session.add(scheme)
    db.session.flush()
    audit.record(actor, "scheme.save", "scheme", scheme.id, period=period.name, version=version)
    return scheme


# ---------------------------------------------------------------- gathering


@dataclass
class ScoreRun:
    result: Result
    engine: scoring.Result
    changes: list  # rank/grade moves against the last published version


def score_period(period_name: str, actor: str = "system", progress=None) -> ScoreRun:
    """Compute a new result version for the period with its current scheme and store it (caller commits).

    One computation at a time per period (services/computing.py): while one runs, or when one finished since
    this call began, ScoringError says so and nothing is stored. On any failure the session is rolled back.
    """
    requested_at = datetime.now(UTC)
    period = get_period(period_name)
    if period.state is PeriodState.DRAFT:
        raise ScoringError(
            f"period {period.name} is a draft: open it and collect data first",
            f"评价周期 {period.name} 仍是草稿，请先开启并采集数据。",
        )
    refusal = computing.claim(period, actor, requested_at)
    if refusal is not None:
        raise ScoringError(refusal.message, refusal.message_zh)
    try:
        run = _compute(period, actor, progress)
    except BaseException:
        db.session.rollback()
        computing.release_now(period)
        raise
    computing.release_with_result(period)
    return run


def _compute(period: Period, actor: str, progress) -> ScoreRun:
    step = progress or (lambda done, total, label="": None)
    step(0, 4, "gather")
    inputs = gather_inputs(period)
    if inputs.units.empty:
        raise ScoringError("there are no units to score", "没有可评价的单位。")
    step(1, 4, "score")
    scheme_row = current_scheme(period, actor)
    scheme = scoring.load_scheme(scheme_row.text)
    engine_result = scoring.compute(inputs, scheme)
    step(2, 4, "store")
    fingerprint = data_fingerprint(inputs)
    version = (db.session.scalar(db.select(func.max(Result.version)).filter_by(period_id=period.id)) or 0) + 1
    result = Result(
        period_id=period.id,
        version=version,
        scheme_id=scheme_row.id,
        data_fingerprint=fingerprint,
        computed_by=actor,
        extras=_extras(engine_result),
    )
    db.session.add(result)
    db.session.flush()
    _store_rows(result, engine_result)
    from .jobs import enqueue_report  # the printed report: built once per version by the report worker

    enqueue_report(result, actor)
    step(3, 4, "compare")
    changes = compare_with_published(result)
    audit.record(
        actor,
        "result.compute",
        "result",
        result.id,
        period=period.name,
        version=version,
        data=fingerprint[:12],
        scheme=scheme_row.version,
    )
    step(4, 4, "done")
    return ScoreRun(result=result, engine=engine_result, changes=changes)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (list, tuple)):
                clean[key] = list(value)
            elif isinstance(value, bool) or value is None or isinstance(value, str):
                clean[key] = value
            elif hasattr(value, "item"):
                value = value.item()
                clean[key] = None if isinstance(value, float) and math.isnan(value) else value
            elif isinstance(value, float):
                clean[key] = None if math.isnan(value) else value
            else:
                clean[key] = value if isinstance(value, int) else str(value)
        out.append(clean)
    return out


def _extras(res: scoring.Result) -> dict:
    return {
        "public": _records(res.public),
        "quality": {name: _records(frame) for name, frame in res.quality.items()},
        "scheme_fingerprint": res.scheme_fingerprint,
    }


def _store_rows(result: Result, res: scoring.Result):
    unit_ids = dict(db.session.execute(db.select(Unit.code, Unit.id)).all())
    leaves_by_unit: dict[str, dict] = {}
    for row in _records(res.leaves):
        leaves_by_unit.setdefault(row["unit"], {})[row["leaf"]] = {
            "value": row["value"],
            "raw": row.get("raw"),
            "n": row["n"],
            "weight": row["weight"],
            "contribution": row["contribution"],
            "suppressed": bool(row.get("suppressed") or False),
        }
    strengths = {row["unit"]: row for row in _records(res.strengths)}
    rows = []
    for u in _records(res.units):
        code = u["unit"]
        rows.append(
            ResultRow(
                result_id=result.id,
                unit_id=unit_ids[code],
                unit_code=code,
                unit_name=u["name"],
                category=u["category"],
                base=u["base"],
                composite=u["composite"],
                rank=None if u["rank"] is None else int(u["rank"]),
                grade=u["grade"],
                assessment_points=u["assessment_points"],
                establishment_action=u["establishment_action"],
                suggested_reduction=int(u["suggested_reduction"] or 0),
                approvals_suspended=bool(u["approvals_suspended"]),
                coverage=u["coverage"] or 0.0,
                deduction=u["deduction"] or 0.0,
                bonus=u["bonus"] or 0.0,
                leaves=leaves_by_unit.get(code, {}),
                review_flag=bool(u["review_flag"]),
                detail={
                    "problems_points": u["problems_points"],
                    "overdue_points": u["overdue_points"],
                    "low_coverage": bool(u["low_coverage"]),
                    "rank_median": u["rank_median"],
                    "rank_p05": u["rank_p05"],
                    "rank_p95": u["rank_p95"],
                    "grade_keep_prob": u["grade_keep_prob"],
                    "strongest": strengths.get(code, {}).get("strongest", []),
                    "weakest": strengths.get(code, {}).get("weakest", []),
                },
            )
        )
    db.session.add_all(rows)
    db.session.flush()


# ---------------------------------------------------------------- reading, comparing, publishing


def latest_result(period: Period, version: int | None = None) -> Result | None:
    """The newest result version of the period (or the given version)."""
    query = db.select(Result).filter_by(period_id=period.id)
    if version is not None:
        return db.session.execute(query.filter_by(version=version)).scalar_one_or_none()
    return db.session.execute(query.order_by(Result.version.desc()).limit(1)).scalar_one_or_none()


def published_result(period: Period) -> Result | None:
    return db.session.execute(
        db.select(Result)
        .filter_by(period_id=period.id, state=ResultState.PUBLISHED)
        .order_by(Result.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def compare_with_published(result: Result) -> list[dict]:
    """Rank and grade moves of each unit against the period's last published version (empty if none)."""
    published = published_result(db.session.get(Period, result.period_id))
    if published is None or published.id == result.id:
        return []
    before = {row.unit_code: row for row in published.rows}
    moves = []
    for row in result.rows:
        old = before.get(row.unit_code)
        if old is None:
            moves.append(
                {
                    "unit": row.unit_code,
                    "name": row.unit_name,
                    "rank_before": None,
                    "rank_after": row.rank,
                    "grade_before": None,
                    "grade_after": row.grade,
                }
            )
        elif old.rank != row.rank or old.grade != row.grade or round2(old.composite) != round2(row.composite):
            moves.append(
                {
                    "unit": row.unit_code,
                    "name": row.unit_name,
                    "rank_before": old.rank,
                    "rank_after": row.rank,
                    "grade_before": old.grade,
                    "grade_after": row.grade,
                    "composite_before": old.composite,
                    "composite_after": row.composite,
                }
            )
    return moves


def acknowledge_review(row: ResultRow, actor: str, note: str):
    """The office has looked at a unit whose grade is unstable (kept in < 80% of draws) and accepts it.

    The console's review form and `assessment review` both call this (through `review_unit` for the CLI).
    """
    if row.result.state is ResultState.PUBLISHED:
        raise ScoringError("a published result cannot be changed", "已发布的结果不能修改。")
    if not row.review_flag:
        raise ScoringError(
            f"unit {row.unit_code} is not flagged for review in result version {row.result.version}",
            f"单位 {row.unit_code} 在第 {row.result.version} 版结果中无需复核。",
        )
    if row.reviewed_at is not None:
        raise ScoringError(
            f"unit {row.unit_code} was already reviewed by {row.reviewed_by}",
            f"单位 {row.unit_code} 已由 {row.reviewed_by} 复核。",
        )
    if not (note or "").strip():
        raise ScoringError("a review note is required", "请填写复核意见。")
    row.reviewed_by = actor
    row.reviewed_at = datetime.now(UTC)
    row.review_note = note.strip()
    audit.record(actor, "result.review", "result_row", row.id, unit=row.unit_code, note=note.strip())


def review_unit(period_name: str, unit_code: str, note: str, actor: str) -> ResultRow:
    """Acknowledge a unit flagged for review in the period's latest result version (`assessment review`)."""
    period = get_period(period_name)
    result = latest_result(period)
    if result is None:
        raise ScoringError(
            f"period {period.name} has no result yet: run `assessment score --period {period.name}`",
            "尚未计算评价结果。",
        )
    row = db.session.execute(
        db.select(ResultRow).filter_by(result_id=result.id, unit_code=unit_code)
    ).scalar_one_or_none()
    if row is None:
        raise ScoringError(
            f"unit {unit_code} is not in result version {result.version} of period {period.name}",
            f"第 {result.version} 版结果中没有单位 {unit_code}。",
        )
    acknowledge_review(row, actor, note)
    return row


def publish_result(period: Period, actor: str) -> Result:
    """Freeze the period's latest result version; refused while flagged units are not acknowledged."""
    result = latest_result(period)
    if result is None:
        raise ScoringError(
            f"period {period.name} has no result yet: run `assessment score --period {period.name}`",
            "尚未计算评价结果。",
        )
    if result.state is ResultState.PUBLISHED:
        return result
    pending = [row.unit_code for row in result.rows if row.review_flag and not row.reviewed_at]
    if pending:
        raise ScoringError(
            f"{len(pending)} unit(s) flagged for review are not acknowledged yet: {', '.join(pending[:10])}",
            f"有 {len(pending)} 个单位的等次在敏感性分析中不稳定（保持率低于80%），需先逐一复核确认："
            f"{'、'.join(pending[:10])}",
        )
    result.state = ResultState.PUBLISHED
    result.published_at = datetime.now(UTC)
    result.published_by = actor
    audit.record(actor, "result.publish", "result", result.id, period=period.name, version=result.version)
    return result
