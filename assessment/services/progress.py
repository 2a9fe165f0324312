"""Raters' progress in a period (填报进度): response rates and the reminder list.

Counts are of assignments (one rater, one unit, one instrument): `assigned` is every assignment of the period,
`opened` those a rater has begun (a draft saved or submitted), `submitted` those whose questionnaire is handed
in. Rates are `submitted / assigned`. Nothing here names a rater next to an answer: the figures are counts, and
the reminder list says only who has not finished, never what anyone answered.
"""

from dataclasses import dataclass, field

from sqlalchemy import case, func

from ..extensions import db
from ..labels import INSTRUMENT_ZH
from ..models import Assignment, AssignmentState, Instrument, Rater, RaterGroup, Town, Unit
from ..spreadsheets import csv_bytes
from .invitations import rater_sort_key

#: The reminder list's columns (interfaces.md, `assessment reminders`).
REMINDER_COLUMNS = ["rater_code", "name", "group", "town_code", "phone", "assigned", "submitted"]

#: States that count as opened: the rater has saved something or handed it in.
OPENED_STATES = (AssignmentState.IN_PROGRESS, AssignmentState.SUBMITTED)

#: Row label of raters who belong to no town (leaders, departments, most experts).
NO_TOWN = "（无镇街）"


@dataclass
class Tally:
    """Assignments assigned / opened / submitted; `rate` is submitted / assigned (0-1), None when none."""

    assigned: int = 0
    opened: int = 0
    submitted: int = 0

    def add(self, state, n):
        self.assigned += n
        if state in OPENED_STATES:
            self.opened += n
        if state is AssignmentState.SUBMITTED:
            self.submitted += n

    @property
    def rate(self):
        return self.submitted / self.assigned if self.assigned else None

    @property
    def opened_rate(self):
        return self.opened / self.assigned if self.assigned else None


@dataclass
class Progress:
    """A period's response rates: in total, by town × rater group, by instrument and by unit."""

    total: Tally = field(default_factory=Tally)
    #: Rater groups that have assignments, in RaterGroup order (the columns of the town table).
    groups: list = field(default_factory=list)
    #: [{"code", "name", "cells": {RaterGroup: Tally}, "total": Tally}], towns by code, then NO_TOWN.
    towns: list = field(default_factory=list)
    #: Column totals of the town table: {RaterGroup: Tally}.
    group_totals: dict = field(default_factory=dict)
    #: [{"key", "name", "tally"}] in the order of INSTRUMENT_ZH.
    instruments: list = field(default_factory=list)
    #: [{"code", "name", "tally"}], lowest rate first (the units whose raters most need a reminder).
    units: list = field(default_factory=list)
    #: Raters with assignments, and those who have submitted every one of them.
    raters: int = 0
    raters_done: int = 0


def progress(period) -> Progress:
    """Response rates of `period`, from one grouped query over its assignments (counts, no answers)."""
    rows = db.session.execute(
        db.select(
            Rater.group, Town.code, Town.name, Instrument.key, Unit.code, Unit.name, Assignment.state, func.count()
        )
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .join(Instrument, Assignment.instrument_id == Instrument.id)
        .join(Unit, Assignment.unit_id == Unit.id)
        .where(Assignment.period_id == period.id)
        .group_by(Rater.group, Town.code, Town.name, Instrument.key, Unit.code, Unit.name, Assignment.state)
    ).all()
    result = Progress()
    towns, instruments, units, groups = {}, {}, {}, {}
    for group, town_code, town_name, key, unit_code, unit_name, state, n in rows:
        result.total.add(state, n)
        town = towns.setdefault(
            town_code, {"code": town_code or "", "name": town_name or NO_TOWN, "cells": {}, "total": Tally()}
        )
        town["cells"].setdefault(group, Tally()).add(state, n)
        town["total"].add(state, n)
        groups.setdefault(group, Tally()).add(state, n)
        instruments.setdefault(key, Tally()).add(state, n)
        units.setdefault(unit_code, {"code": unit_code, "name": unit_name, "tally": Tally()})["tally"].add(state, n)
    result.groups = [g for g in RaterGroup if g in groups]
    result.group_totals = groups
    result.towns = sorted(towns.values(), key=lambda t: (t["code"] == "", t["code"]))
    order = list(INSTRUMENT_ZH)
    result.instruments = [
        {"key": key, "name": INSTRUMENT_ZH.get(key, key), "tally": tally}
        for key, tally in sorted(
            instruments.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])
        )
    ]
    result.units = sorted(units.values(), key=lambda u: (u["tally"].rate, u["code"]))
    per_rater = _per_rater(period)
    result.raters = len(per_rater)
    result.raters_done = sum(1 for assigned, submitted in per_rater.values() if submitted == assigned)
    return result


def _per_rater(period) -> dict:
    """rater id -> (assigned, submitted) for every rater with assignments in `period`."""
    submitted = func.sum(case((Assignment.state == AssignmentState.SUBMITTED, 1), else_=0))
    rows = db.session.execute(
        db.select(Assignment.rater_id, func.count(), submitted)
        .where(Assignment.period_id == period.id)
        .group_by(Assignment.rater_id)
    ).all()
    return {rater_id: (assigned, int(done or 0)) for rater_id, assigned, done in rows}


def reminder_rows(period) -> list[dict]:
    """The active raters of `period` who have not submitted everything, by group, town and code.

    Each row has the REMINDER_COLUMNS; `group` is the code (grassroots …), `town_code` empty when none.
    """
    submitted = func.sum(case((Assignment.state == AssignmentState.SUBMITTED, 1), else_=0))
    assigned = func.count()
    rows = db.session.execute(
        db.select(Rater.code, Rater.name, Rater.group, Town.code, Rater.phone, assigned, submitted)
        .select_from(Assignment)
        .join(Rater, Assignment.rater_id == Rater.id)
        .outerjoin(Town, Rater.town_id == Town.id)
        .where(Assignment.period_id == period.id, Rater.active.is_(True))
        .group_by(Rater.id, Rater.code, Rater.name, Rater.group, Town.code, Rater.phone)
        .having(submitted < assigned)
    ).all()
    out = [
        {
            "rater_code": code,
            "name": name,
            "group": group,
            "town_code": town or "",
            "phone": phone or "",
            "assigned": int(n),
            "submitted": int(done or 0),
        }
        for code, name, group, town, phone, n, done in rows
    ]
    out.sort(key=lambda r: rater_sort_key(r["group"], r["town_code"], r["rater_code"]))
    return out


def reminders_csv(period) -> bytes:
    """The reminder list as CSV (spreadsheets.csv_bytes): REMINDER_COLUMNS."""
    rows = (
        [r["rater_code"], r["name"], r["group"].value, r["town_code"], r["phone"], r["assigned"], r["submitted"]]
        for r in reminder_rows(period)
    )
    return csv_bytes(REMINDER_COLUMNS, rows)
