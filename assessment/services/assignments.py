"""Assignments from the period's rules: who rates which units with which instrument.

The rules (AssignmentRule, one per instrument and period) are created from DEFAULT_RULES the first time a
period's rules are read, and the office can change them:

- grassroots (镇街干部) → every unit, or only the units marked as serving towns (Unit.serves_towns);
- leader, deputy, expert → every unit;
- peer (部门互评, department raters) → every other unit, or the units in a list — never the rater's own unit;
- self (自评, department raters) → the rater's own unit.

`assign(period, actor)` creates what the rules ask for and is idempotent. It never drops an assignment that
has answers (a draft or a submitted version); it drops only untouched ones (never opened, no response row)
that the rules no longer match, e.g. after a unit was marked as not serving towns. Assignments whose
instrument has a newer version count as the same assignment (matched by instrument key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, exists, select

from ..extensions import db
from ..models import (
    Assignment,
    AssignmentRule,
    AssignmentState,
    Instrument,
    Period,
    PeriodState,
    Rater,
    RaterGroup,
    Response,
    TargetScope,
    Unit,
)
from . import audit
from .bulk import bulk_insert
from .refusals import Refused

#: Instrument key → (default scope, scopes the office may choose).
DEFAULT_RULES = {
    "grassroots": (TargetScope.SERVING_TOWNS, (TargetScope.ALL_UNITS, TargetScope.SERVING_TOWNS)),
    "leader": (TargetScope.ALL_UNITS, (TargetScope.ALL_UNITS,)),
    "peer": (TargetScope.OTHER_UNITS, (TargetScope.OTHER_UNITS, TargetScope.LISTED_UNITS)),
    "self": (TargetScope.OWN_UNIT, (TargetScope.OWN_UNIT,)),
    "deputy": (TargetScope.ALL_UNITS, (TargetScope.ALL_UNITS,)),
    "expert": (TargetScope.ALL_UNITS, (TargetScope.ALL_UNITS,)),
}


class AssignError(Refused):
    """A rule change or an assign run that cannot be done; ``message_zh`` is for the console."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message_zh)
        self.args = (message,)  # str() stays English for the command line


@dataclass
class InstrumentCount:
    """What assign did for one instrument: matched by the rules now, added, dropped, kept though unmatched."""

    matched: int = 0
    added: int = 0
    dropped: int = 0
    #: Assignments the rules no longer match but that have answers, so they stay.
    kept: int = 0


@dataclass
class AssignRun:
    counts: dict[str, InstrumentCount] = field(default_factory=dict)
    #: Department raters without a unit (they get no peer or self assignments).
    raters_without_unit: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(c.added for c in self.counts.values())


def rules(period: Period, actor: str = "system") -> list[AssignmentRule]:
    """The period's rules, one per known instrument, creating the defaults the first time (caller commits)."""
    existing = {
        r.instrument_key: r
        for r in db.session.execute(db.select(AssignmentRule).filter_by(period_id=period.id)).scalars()
    }
    for key, (scope, _) in DEFAULT_RULES.items():
        if key not in existing:
            rule = AssignmentRule(
                period_id=period.id,
                instrument_key=key,
                scope=scope,
                enabled=True,
                updated_by=actor,
                updated_at=datetime.now(UTC),
            )
            db.session.add(rule)
            existing[key] = rule
    db.session.flush()
    order = list(DEFAULT_RULES)
    return sorted(
        existing.values(),
        key=lambda r: (
            order.index(r.instrument_key) if r.instrument_key in order else len(order),
            r.instrument_key,
        ),
    )


def allowed_scopes(instrument_key: str) -> tuple[TargetScope, ...]:
    """The scopes the office may choose for an instrument."""
    return DEFAULT_RULES.get(instrument_key, (None, (TargetScope.ALL_UNITS,)))[1]


def set_rule(
    period: Period,
    instrument_key: str,
    actor: str,
    *,
    enabled: bool | None = None,
    scope: TargetScope | str | None = None,
    unit_codes: list[str] | None = None,
) -> AssignmentRule:
    """Change one instrument's rule (audited); AssignError names the bad field. Run assign() to apply it."""
    if period.state in (PeriodState.CLOSED, PeriodState.PUBLISHED):
        raise AssignError(
            f"period {period.name} is {period.state.value}; its rules cannot change",
            f"{period.name} 评价周期已{period.state.label}，不能再修改分配规则",
        )
    rule = next((r for r in rules(period, actor) if r.instrument_key == instrument_key), None)
    if rule is None:
        raise AssignError(f"unknown instrument '{instrument_key}'", f"问卷“{instrument_key}”不存在")
    if scope is not None:
        try:
            scope = TargetScope(scope)
        except ValueError:
            raise AssignError(f"unknown scope '{scope}'", f"评价范围“{scope}”无效") from None
        if scope not in allowed_scopes(instrument_key):
            choices = "、".join(s.label for s in allowed_scopes(instrument_key))
            raise AssignError(
                f"scope {scope.value} is not allowed for {instrument_key}",
                f"评价范围：该问卷只能选择 {choices}",
            )
        rule.scope = scope
    if unit_codes is not None:
        codes = sorted({c.strip() for c in unit_codes if c and c.strip()})
        known = set(db.session.execute(select(Unit.code).where(Unit.code.in_(codes))).scalars())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise AssignError(
                f"unknown unit codes: {', '.join(unknown)}", f"指定单位：单位代码不存在：{'、'.join(unknown)}"
            )
        rule.unit_codes = codes
    if rule.scope is TargetScope.LISTED_UNITS and not rule.unit_codes:
        raise AssignError("a listed-units rule needs at least one unit", "指定单位：请至少选择一个单位")
    if enabled is not None:
        rule.enabled = bool(enabled)
    rule.updated_by, rule.updated_at = actor, datetime.now(UTC)
    db.session.flush()
    audit.record(
        actor,
        "assignment_rule.set",
        "assignment_rule",
        rule.id,
        period=period.name,
        instrument=instrument_key,
        enabled=rule.enabled,
        scope=rule.scope.value,
        units=rule.unit_codes if rule.scope is TargetScope.LISTED_UNITS else None,
    )
    return rule


def _targets(rule: AssignmentRule, rater_unit: int | None, units: list[tuple[int, str, bool]]) -> list[int]:
    """Target unit ids of one rater under one rule; a rater never rates its own unit except in self review."""
    scope = rule.scope
    if scope is TargetScope.ALL_UNITS:
        return [uid for uid, _, _ in units]
    if scope is TargetScope.SERVING_TOWNS:
        return [uid for uid, _, serves in units if serves]
    if scope is TargetScope.OWN_UNIT:
        return [uid for uid, _, _ in units if rater_unit is not None and uid == rater_unit]
    if rater_unit is None:
        return []
    if scope is TargetScope.OTHER_UNITS:
        return [uid for uid, _, _ in units if uid != rater_unit]
    listed = set(rule.unit_codes or ())
    return [uid for uid, code, _ in units if code in listed and uid != rater_unit]


def assign(period: Period, actor: str = "system") -> AssignRun:
    """Create the period's assignments from its rules; returns counts per instrument key.

    Idempotent: running again adds only what is new. Never drops an assignment with answers (a response row:
    a draft or submitted versions); drops untouched ones (not opened, no response) the rules no longer match,
    including those of a disabled rule, of inactive raters and of inactive units. Refused once the period is
    closed or published. Only flushes; the caller commits.
    """
    if period.state in (PeriodState.CLOSED, PeriodState.PUBLISHED):
        raise AssignError(
            f"period {period.name} is {period.state.value}; no assignments can be added",
            f"{period.name} 评价周期已{period.state.label}，不能再生成评价任务",
        )
    from .instruments import current_instruments, sync_instruments

    instruments = current_instruments()
    if not instruments:
        sync_instruments(actor=actor)
        instruments = current_instruments()
    key_of = {i.id: i.key for i in db.session.execute(db.select(Instrument)).scalars()}

    units = [
        tuple(row)
        for row in db.session.execute(
            select(Unit.id, Unit.code, Unit.serves_towns).where(Unit.active.is_(True)).order_by(Unit.code)
        )
    ]
    raters = db.session.execute(
        select(Rater.id, Rater.code, Rater.group, Rater.unit_id).where(Rater.active.is_(True)).order_by(Rater.code)
    ).all()
    existing = db.session.execute(
        select(
            Assignment.id,
            Assignment.rater_id,
            Assignment.unit_id,
            Assignment.instrument_id,
            Assignment.state,
            Response.id,
        )
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.period_id == period.id)
    ).all()
    have = {}
    for aid, rater_id, unit_id, instrument_id, state, response_id in existing:
        touched = response_id is not None or state is not AssignmentState.NOT_OPENED
        have[(rater_id, unit_id, key_of[instrument_id])] = (aid, touched)

    run = AssignRun()
    wanted = set()
    now = datetime.now(UTC)
    new_rows = []
    for rule in rules(period, actor):
        count = run.counts.setdefault(rule.instrument_key, InstrumentCount())
        instrument = instruments.get(rule.instrument_key)
        if not rule.enabled or instrument is None:
            continue
        group = RaterGroup(instrument.rater_group)
        for rater_id, rater_code, rater_group, rater_unit in raters:
            if rater_group is not group:
                continue
            if group is RaterGroup.DEPARTMENT and rater_unit is None:
                if rater_code not in run.raters_without_unit:
                    run.raters_without_unit.append(rater_code)
                continue
            for unit_id in _targets(rule, rater_unit, units):
                k = (rater_id, unit_id, rule.instrument_key)
                wanted.add(k)
                count.matched += 1
                if k not in have:
                    new_rows.append(
                        {
                            "period_id": period.id,
                            "rater_id": rater_id,
                            "unit_id": unit_id,
                            "instrument_id": instrument.id,
                            "state": AssignmentState.NOT_OPENED,
                            "created_at": now,
                        }
                    )
                    count.added += 1

    stale = {}
    for k, (aid, touched) in have.items():
        if k in wanted:
            continue
        count = run.counts.setdefault(k[2], InstrumentCount())
        if touched:
            count.kept += 1
        else:
            stale.setdefault(k[2], []).append(aid)
    for instrument_key, ids in stale.items():
        count = run.counts[instrument_key]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # "Untouched" is checked again by the DELETE itself: a rater may open one of these after the snapshot
            # above, and that assignment (and its answers) must stay.
            dropped = db.session.execute(
                delete(Assignment)
                .where(
                    Assignment.id.in_(chunk),
                    Assignment.state == AssignmentState.NOT_OPENED,
                    ~exists().where(Response.assignment_id == Assignment.id),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            count.dropped += dropped
            count.kept += len(chunk) - dropped
    bulk_insert(Assignment, new_rows)
    db.session.flush()
    audit.record(
        actor,
        "assignment.assign",
        "period",
        period.id,
        period=period.name,
        counts={k: vars(c) for k, c in run.counts.items()},
    )
    return run


def rater_assignments(rater_id: int, period_id: int) -> list[Assignment]:
    """A rater's assignments in a period, with unit, instrument and response loaded (the rater's pages), in the
    order the pages show them: by instrument as in DEFAULT_RULES, then by unit code."""
    from sqlalchemy import case
    from sqlalchemy.orm import joinedload

    instrument_order = case(
        {key: n for n, key in enumerate(DEFAULT_RULES)}, value=Instrument.key, else_=len(DEFAULT_RULES)
    )

    return list(
        db.session.execute(
            db.select(Assignment)
            .join(Instrument, Assignment.instrument_id == Instrument.id)
            .join(Unit, Assignment.unit_id == Unit.id)
            .where(Assignment.rater_id == rater_id, Assignment.period_id == period_id)
            .options(
                joinedload(Assignment.unit),
                joinedload(Assignment.instrument),
                joinedload(Assignment.response),
            )
            .order_by(instrument_order, Instrument.key, Unit.code)
        )
        .unique()
        .scalars()
    )
