"""Real-name establishment data (实名制, Taiyuan) and the vacancy pool (零空编, Hulunbuir).

Each unit's four figures (establishment, actual staff, leader posts, leaders in post) are edited in the console;
every edit keeps a history row. Early warnings are the Unit properties `over_establishment` and
`over_leader_posts`. When the office confirms a `restrict` unit's suggested reduction of a published result, the
establishments move from the unit into the city's pool with a record; the pool may give establishments to a unit.

The pool is a chain of entries numbered by `seq` with the balance after each (models/establishment.py): the
database refuses a second entry with the same number, a negative balance, and a second confirmation of one unit's
reduction in one period, so two clicks or two clerks at once cannot move establishments twice.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    ChangeSource,
    EstablishmentChange,
    Period,
    PeriodState,
    PoolEntryKind,
    ResultRow,
    Unit,
    VacancyPoolEntry,
)
from ..models.establishment import FIGURES
from . import audit, refusals
from .refusals import Refused
from .scoring import published_result

NOTE_MAX = 2000
#: Largest figure the console accepts (a sanity bound, far above any unit's headcount).
FIGURE_MAX = 100000


class EstablishmentError(Refused):
    """A change that cannot be made; `message_zh` names the field and says why."""


def _whole_number(value, field_zh: str, message_zh: str) -> int | None:
    """A count typed in a form: None when blank, an int when it is ASCII digits ("²" and "①" pass str.isdigit()
    but are not numbers), else EstablishmentError(message_zh). Ints pass through for the range check."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        raise EstablishmentError(message_zh, field_zh)
    return int(value)


def figures(unit: Unit) -> dict:
    """The unit's four figures by name."""
    return {name: getattr(unit, name) for name in FIGURES}


def warnings(unit: Unit) -> list[str]:
    """The codes of the unit's early warnings (labels.WARNING_ZH): over establishment, over leader posts."""
    return [code for code in ("over_establishment", "over_leader_posts") if getattr(unit, code)]


def _record(unit: Unit, before: dict, source: ChangeSource, note: str | None, actor: str) -> EstablishmentChange:
    change = EstablishmentChange(unit_id=unit.id, source=source, note=note, changed_by=actor)
    for name in FIGURES:
        setattr(change, f"{name}_before", before[name])
        setattr(change, f"{name}_after", getattr(unit, name))
    db.session.add(change)
    return change


def update_figures(unit: Unit, values: dict, note: str | None, actor: str) -> EstablishmentChange | None:
    """Set the unit's figures (each a whole number ≥ 0, or None for unknown) and keep the change in the history.

    Returns the history row, or None when nothing changed. The figures themselves may show a unit over its
    establishment — that is what the warnings are for — so only the numbers are checked.
    """
    from ..labels import FIGURE_ZH

    note = refusals.text(note, "修改说明", NOTE_MAX, required=False, error=EstablishmentError)
    clean = {}
    for name in FIGURES:
        raw = values.get(name)
        field_zh = FIGURE_ZH[name]
        value = _whole_number(raw, field_zh, f"{field_zh}：请填写不小于 0 的整数（现为“{str(raw).strip()}”）。")
        if value is not None and not (isinstance(value, int) and 0 <= value <= FIGURE_MAX):
            raise EstablishmentError(f"{FIGURE_ZH[name]}：请填写 0 至 {FIGURE_MAX} 之间的整数。")
        clean[name] = value
    before = figures(unit)
    if clean == before:
        return None
    for name, value in clean.items():
        setattr(unit, name, value)
    change = _record(unit, before, ChangeSource.CONSOLE, note, actor)
    db.session.flush()
    audit.record(actor, "establishment.update", "unit", unit.id, code=unit.code, before=before, after=clean, note=note)
    return change


def history(unit: Unit) -> list[EstablishmentChange]:
    """The unit's figure changes, newest first."""
    return (
        db.session.execute(
            db.select(EstablishmentChange)
            .filter_by(unit_id=unit.id)
            .order_by(EstablishmentChange.changed_at.desc(), EstablishmentChange.id.desc())
        )
        .scalars()
        .all()
    )


@dataclass
class CityTotals:
    """The city's figures over active units: sums, the vacancy total (空编, Σ max(0, establishment − actual)),
    and how many units carry each warning."""

    units: int
    establishment: int
    actual_staff: int
    vacancies: int
    over_establishment: int
    over_leader_posts: int
    pool_balance: int


def city_totals() -> CityTotals:
    """The city's establishment figures and the pool's balance, for the establishment page."""
    units = db.session.execute(db.select(Unit).filter_by(active=True)).scalars().all()
    return CityTotals(
        units=len(units),
        establishment=sum(u.establishment or 0 for u in units),
        actual_staff=sum(u.actual_staff or 0 for u in units),
        vacancies=sum(u.vacancies for u in units),
        over_establishment=sum(1 for u in units if u.over_establishment),
        over_leader_posts=sum(1 for u in units if u.over_leader_posts),
        pool_balance=pool_balance(),
    )


# ---------------------------------------------------------------- the vacancy pool (零空编)


def _last_entry() -> VacancyPoolEntry | None:
    return db.session.execute(
        db.select(VacancyPoolEntry).order_by(VacancyPoolEntry.seq.desc()).limit(1)
    ).scalar_one_or_none()


def pool_balance() -> int:
    """Establishments in the pool now (the balance after the last entry; 0 before the first)."""
    last = _last_entry()
    return last.balance_after if last else 0


def pool_entries(limit: int = 200) -> list[VacancyPoolEntry]:
    """The pool's entries, newest first."""
    return (
        db.session.execute(db.select(VacancyPoolEntry).order_by(VacancyPoolEntry.seq.desc()).limit(limit))
        .scalars()
        .all()
    )


def _append(
    kind: PoolEntryKind,
    unit: Unit,
    amount: int,
    actor: str,
    note: str | None,
    period: Period | None = None,
    row: ResultRow | None = None,
) -> VacancyPoolEntry:
    """Add the next entry of the chain in a savepoint: a concurrent writer who took the same number, a second
    confirmation or a negative balance is refused by the database and turned into a Chinese message."""
    last = _last_entry()
    balance = (last.balance_after if last else 0) + (amount if kind is PoolEntryKind.RECLAIM else -amount)
    if balance < 0:
        raise EstablishmentError(f"调剂数量：空编池现有 {balance + amount} 名，不足 {amount} 名。")
    entry = VacancyPoolEntry(
        seq=(last.seq if last else 0) + 1,
        kind=kind,
        unit_id=unit.id,
        amount=amount,
        balance_after=balance,
        note=note,
        created_by=actor,
        period_id=period.id if period else None,
        result_row_id=row.id if row else None,
    )
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:
        # Another clerk took this pool number or confirmed this reduction a moment ago. Not in a savepoint: on
        # SQLite a SAVEPOINT opened before any write commits when released, past the commit point; the refusal
        # rolls the whole request back instead.
        raise EstablishmentError("空编池：有人刚刚修改了空编池或已确认过这项核减，请刷新页面后重试。") from None
    return entry


@dataclass
class Reduction:
    """A `restrict` unit's suggested reduction in a published result, and its confirmation if done."""

    period: Period
    row: ResultRow
    unit: Unit
    entry: VacancyPoolEntry | None


def reductions(period: Period) -> list[Reduction]:
    """The suggested reductions (建议核减) of the period's published result, confirmed or not; empty before
    publishing."""
    result = published_result(period) if period.state is PeriodState.PUBLISHED else None
    if result is None:
        return []
    rows = [r for r in result.rows if r.establishment_action == "restrict" and (r.suggested_reduction or 0) > 0]
    entries = {
        e.unit_id: e
        for e in db.session.execute(
            db.select(VacancyPoolEntry).filter_by(period_id=period.id, kind=PoolEntryKind.RECLAIM)
        ).scalars()
    }
    units = {
        u.id: u for u in db.session.execute(db.select(Unit).where(Unit.id.in_([r.unit_id for r in rows]))).scalars()
    }
    return [
        Reduction(period, r, units[r.unit_id], entries.get(r.unit_id)) for r in sorted(rows, key=lambda r: r.unit_code)
    ]


def confirm_reduction(period: Period, unit_code: str, actor: str, note: str | None = None) -> VacancyPoolEntry:
    """Confirm a `restrict` unit's suggested reduction of the period's published result: its establishment goes
    down by the suggested number, the pool up, with a pool entry and a history row. Refuses before publishing, a
    unit without a suggested reduction, a second confirmation, and a reduction larger than the unit's vacancies
    today (the establishments must be vacant to be reclaimed)."""
    if period.state is not PeriodState.PUBLISHED:
        raise EstablishmentError(f"评价周期：{period.name} 年度评价结果尚未发布，不能确认核减。")
    found = next((r for r in reductions(period) if r.unit.code == unit_code), None)
    if found is None:
        raise EstablishmentError(f"单位：{unit_code} 在 {period.name} 年度已发布结果中没有建议核减的编制。")
    if found.entry is not None:
        raise EstablishmentError(f"单位：{found.unit.name} 的 {period.name} 年度核减已于此前确认，不能重复确认。")
    unit, amount = found.unit, int(found.row.suggested_reduction)
    if unit.vacancies < amount:
        raise EstablishmentError(
            f"核减数量：{unit.name} 现有空编 {unit.vacancies} 名，少于建议核减的 {amount} 名；请先核实编制数据。"
        )
    note = (note or "").strip()[:NOTE_MAX] or None
    before = figures(unit)
    entry = _append(PoolEntryKind.RECLAIM, unit, amount, actor, note, period, found.row)
    unit.establishment -= amount
    _record(unit, before, ChangeSource.POOL, f"{period.name} 年度评价较差，核减编制 {amount} 名收回空编池", actor)
    db.session.flush()
    audit.record(
        actor,
        "pool.reclaim",
        "unit",
        unit.id,
        code=unit.code,
        period=period.name,
        amount=amount,
        balance_after=entry.balance_after,
    )
    return entry


def allocate(unit: Unit, amount, note: str | None, actor: str) -> VacancyPoolEntry:
    """Give `amount` establishments from the pool to a unit (调剂), never more than the pool holds."""
    message = "调剂数量：请填写大于 0 的整数。"
    amount = _whole_number(amount, "调剂数量", message)
    if not isinstance(amount, int) or amount <= 0:
        raise EstablishmentError(message, "调剂数量")
    note = refusals.text(note, "调剂说明", NOTE_MAX, required=False, error=EstablishmentError)
    if note is None:
        raise EstablishmentError("调剂说明：请填写调剂依据。", "调剂说明")
    before = figures(unit)
    entry = _append(PoolEntryKind.ALLOCATE, unit, amount, actor, note)
    unit.establishment = (unit.establishment or 0) + amount
    _record(unit, before, ChangeSource.POOL, f"空编池调剂编制 {amount} 名：{note}", actor)
    db.session.flush()
    audit.record(
        actor, "pool.allocate", "unit", unit.id, code=unit.code, amount=amount, balance_after=entry.balance_after
    )
    return entry
