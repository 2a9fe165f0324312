"""Scoring a period: gather frames from the database, run `scoring/`, store a result version.

Heavy aggregation happens in the database (ratings are counted per unit, level and default flag with GROUP BY),
so millions of ratings never travel into Python one by one. Only the latest submitted version of each response
is read. A result version keeps the scheme it used and a fingerprint of its input data; a published version is
never changed: scoring again makes a new version.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import func

import scoring
from scoring.rounding import round_half_up

from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    BonusItem,
    CheckPoint,
    InstitutionScore,
    Instrument,
    Period,
    PeriodState,
    Problem,
    PublicRating,
    Question,
    Rater,
    Response,
    ResponseVersion,
    Result,
    ResultRow,
    ResultState,
    Scheme,
    Town,
    Unit,
)
from . import audit
from .period_lookup import get_period


class ScoringError(Exception):
    """Scoring or publishing refused: `str()` in English (CLI), `message_zh` for the console."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message)
        self.message_zh = message_zh


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
    version = (
        db.session.scalar(db.select(func.max(Scheme.version)).filter_by(period_id=period.id)) or 0
    ) + 1
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


def _frame(query, columns):
    # Plain tuples: building a frame from SQLAlchemy Row objects is several times slower.
    rows = [tuple(row) for row in db.session.execute(query)]
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in columns}
    )


def _values(series):
    """Enum members to their string values, looking each distinct value up once."""
    return series.map({v: getattr(v, "value", v) for v in series.dropna().unique()})


def gather_inputs(period: Period) -> scoring.Inputs:
    """The period's input frames in the engine's contract (see scoring/inputs.py)."""
    units = _frame(
        db.select(Unit.code, Unit.name, Unit.kind, Unit.category, Unit.establishment, Unit.actual_staff)
        .where(Unit.active.is_(True))
        .order_by(Unit.code),
        ["code", "name", "kind", "category", "establishment", "actual_staff"],
    )
    units["kind"] = _values(units["kind"])

    # Questions of the newest version of each instrument (a question keeps its id across versions).
    newest = (
        db.select(Instrument.key, func.max(Instrument.version).label("version"))
        .group_by(Instrument.key)
        .subquery()
    )
    questions = _frame(
        db.select(Instrument.key, Question.qid, Question.theme, Question.type, Question.weight)
        .join(Instrument, Question.instrument_id == Instrument.id)
        .join(newest, (newest.c.key == Instrument.key) & (newest.c.version == Instrument.version))
        .order_by(Instrument.key, Question.position),
        ["instrument", "question", "theme", "type", "weight"],
    )

    # Who answered what comes from the (few) assignments; the (many) answers carry only the assignment id.
    assignments = _frame(
        db.select(Assignment.id, Rater.code, Rater.group, Town.name, Instrument.key, Unit.code,
                  Response.current_version)
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id, Unit.active.is_(True)),
        ["assignment", "rater", "group", "town", "instrument", "unit", "submitted"],
    )
    assignments["group"] = _values(assignments["group"])
    assignments["submitted"] = pd.to_numeric(assignments["submitted"]).fillna(0).astype(int) > 0

    answer_rows = _frame(
        db.select(Assignment.id, Answer.question, Answer.value)
        .select_from(Answer)
        .join(ResponseVersion, Answer.version_id == ResponseVersion.id)
        .join(Response, (ResponseVersion.response_id == Response.id)
              & (ResponseVersion.version == Response.current_version))
        .join(Assignment, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id),
        ["assignment", "question", "answer"],
    )
    answers = answer_rows.merge(
        assignments[["assignment", "rater", "group", "instrument", "unit"]], on="assignment", how="inner"
    )[["rater", "group", "instrument", "unit", "question", "answer"]]
    answers["answer"] = pd.to_numeric(answers["answer"], errors="coerce").astype(float)

    # Millions of ratings are counted in the database; units are joined to the few grouped rows.
    counts = (
        db.select(PublicRating.unit_id, PublicRating.level, PublicRating.is_default,
                  func.count().label("n"))
        .where(PublicRating.period_id == period.id, PublicRating.excluded.is_(False))
        .group_by(PublicRating.unit_id, PublicRating.level, PublicRating.is_default)
        .subquery()
    )
    ratings = _frame(
        db.select(Unit.code, counts.c.level, counts.c.is_default, counts.c.n)
        .join(counts, counts.c.unit_id == Unit.id)
        .where(Unit.active.is_(True)),
        ["unit", "level", "is_default", "n"],
    )
    ratings["is_default"] = ratings["is_default"].astype(bool)

    def per_unit(model, *columns, names):
        return _frame(
            db.select(Unit.code, *columns)
            .join(Unit, model.unit_id == Unit.id)
            .where(model.period_id == period.id, Unit.active.is_(True)),
            ["unit", *names],
        )

    checkpoints = per_unit(CheckPoint, CheckPoint.status, names=["status"])
    checkpoints["status"] = _values(checkpoints["status"])
    problems = per_unit(Problem, Problem.severity, Problem.deadline, Problem.closed_on,
                        names=["severity", "deadline", "closed_on"])
    problems["severity"] = _values(problems["severity"])
    bonuses = per_unit(BonusItem, BonusItem.points, names=["points"])
    institution = per_unit(InstitutionScore, InstitutionScore.score, names=["score"])

    assignments = assignments.drop(columns=["assignment"])

    return scoring.Inputs(
        units=units,
        as_of=period.as_of,
        questions=questions,
        answers=answers,
        ratings=ratings,
        checkpoints=checkpoints,
        problems=problems,
        bonuses=bonuses,
        institution=institution,
        assignments=assignments,
    )


def data_fingerprint(inputs: scoring.Inputs) -> str:
    """sha256 over every input frame, independent of row order: the same data always gives the same print.

    Each row is hashed (pandas' fixed-key row hash), the row hashes are sorted and fed to sha256 with the
    frame's name and columns. It identifies data; it is not part of any score.
    """
    digest = hashlib.sha256()
    digest.update(str(inputs.as_of).encode())
    for name in ("units", "questions", "answers", "ratings", "checkpoints", "problems", "bonuses",
                 "institution"):
        frame = getattr(inputs, name)
        columns = sorted(frame.columns)
        digest.update(f"{name}:{len(frame)}:{','.join(columns)}".encode())
        if len(frame):
            canonical = frame[columns].astype(object).where(frame[columns].notna(), None).astype(str)
            rows = np.sort(pd.util.hash_pandas_object(canonical, index=False).to_numpy())
            digest.update(rows.tobytes())
    return digest.hexdigest()


@dataclass
class ScoreRun:
    result: Result
    engine: scoring.Result
    changes: list  # rank/grade moves against the last published version


def score_period(period_name: str, actor: str = "system", progress=None) -> ScoreRun:
    """Compute a new result version for the period with its current scheme and store it (caller commits)."""
    step = progress or (lambda done, total, label="": None)
    period = get_period(period_name)
    if period.state is PeriodState.DRAFT:
        raise ScoringError(f"period {period.name} is a draft: open it and collect data first",
                           f"评价周期 {period.name} 仍是草稿，请先开启并采集数据。")
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
    audit.record(actor, "result.compute", "result", result.id, period=period.name, version=version,
                 data=fingerprint[:12], scheme=scheme_row.version)
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


def ordered_rows(result: Result) -> list[ResultRow]:
    """The result's rows by category, then rank (units without a composite last, by code).

    Sorted in Python, by code point: database collations order Chinese category names differently.
    """
    return sorted(result.rows, key=lambda r: (r.category, r.rank is None, r.rank or 0, r.unit_code))


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
            moves.append({"unit": row.unit_code, "name": row.unit_name, "rank_before": None, "rank_after": row.rank,
                          "grade_before": None, "grade_after": row.grade})
        elif old.rank != row.rank or old.grade != row.grade or _two(old.composite) != _two(row.composite):
            moves.append({"unit": row.unit_code, "name": row.unit_name, "rank_before": old.rank,
                          "rank_after": row.rank, "grade_before": old.grade, "grade_after": row.grade,
                          "composite_before": old.composite, "composite_after": row.composite})
    return moves


def _two(value):
    """A composite as shown (two decimals, 四舍五入), None for a unit without data: moves are what people see."""
    return None if value is None else round_half_up(value, 2)


def acknowledge_review(row: ResultRow, actor: str, note: str):
    """The office has looked at a unit whose grade is unstable (kept in < 80% of draws) and accepts it.

    The console's review form and `assessment review` both call this (through `review_unit` for the CLI).
    """
    if row.result.state is ResultState.PUBLISHED:
        raise ScoringError("a published result cannot be changed", "已发布的结果不能修改。")
    if not row.review_flag:
        raise ScoringError(f"unit {row.unit_code} is not flagged for review in result version {row.result.version}",
                           f"单位 {row.unit_code} 在第 {row.result.version} 版结果中无需复核。")
    if row.reviewed_at is not None:
        raise ScoringError(f"unit {row.unit_code} was already reviewed by {row.reviewed_by}",
                           f"单位 {row.unit_code} 已由 {row.reviewed_by} 复核。")
    if not (note or "").strip():
        raise ScoringError("a review note is required", "请填写复核意见。")
    row.reviewed_by = actor
    row.reviewed_at = datetime.now(timezone.utc)
    row.review_note = note.strip()
    audit.record(actor, "result.review", "result_row", row.id, unit=row.unit_code, note=note.strip())


def review_unit(period_name: str, unit_code: str, note: str, actor: str) -> ResultRow:
    """Acknowledge a unit flagged for review in the period's latest result version (`assessment review`)."""
    period = get_period(period_name)
    result = latest_result(period)
    if result is None:
        raise ScoringError(f"period {period.name} has no result yet: run `assessment score --period {period.name}`",
                           "尚未计算评价结果。")
    row = db.session.execute(
        db.select(ResultRow).filter_by(result_id=result.id, unit_code=unit_code)
    ).scalar_one_or_none()
    if row is None:
        raise ScoringError(f"unit {unit_code} is not in result version {result.version} of period {period.name}",
                           f"第 {result.version} 版结果中没有单位 {unit_code}。")
    acknowledge_review(row, actor, note)
    return row


def publish_result(period: Period, actor: str) -> Result:
    """Freeze the period's latest result version; refused while flagged units are not acknowledged."""
    result = latest_result(period)
    if result is None:
        raise ScoringError(f"period {period.name} has no result yet: run `assessment score --period {period.name}`",
                           "尚未计算评价结果。")
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
    result.published_at = datetime.now(timezone.utc)
    result.published_by = actor
    audit.record(actor, "result.publish", "result", result.id, period=period.name, version=result.version)
    return result
