"""The ledger kinds of a period, keyed by the unit: check points (问效点), problems (问题台账),
bonuses (加分项) and institution scores (事业单位绩效考核得分)."""

from typing import ClassVar

from sqlalchemy import select

from ....extensions import db
from ....models import (
    BonusItem,
    CheckPoint,
    CheckPointStatus,
    InstitutionScore,
    Problem,
    ProblemClass,
    ProblemSource,
    ProblemState,
    Severity,
    Unit,
)
from ....models.base import utcnow
from ....models.checkpoints import IMPORTED_STATUSES
from ....models.ledger import PROBLEM_TRANSITIONS, ProblemAction, ProblemStep
from ...bulk import bulk_insert, insert_ids
from ...ledger_numbers import take_numbers
from ..cells import column_length
from .base import Upsert


class UnitScoped(Upsert):
    """Ledger kinds keyed by the period and the unit (plus an item, a title …)."""

    def prepare(self):
        super().prepare()
        self.units = self.code_map(Unit)

    def unit_id(self, row):
        """The id of the row's unit_code, or None with an error when it is unknown."""
        return self.lookup(row, "unit_code", self.units, "unit code", "单位编码")


class CheckPoints(UnitScoped):
    """问效点: one per (period, unit, item); the file sets the due date and the status."""

    model = CheckPoint
    key = ("unit_id", "item")
    key_column = "item"
    fields: ClassVar[dict] = {"due": None, "status": None}
    duplicate_en, duplicate_zh = "check point '{v}' of this unit", "本单位的问效点“{v}”"

    def parse(self, row):
        return {
            "unit_id": self.unit_id(row),
            "item": row.text("item", True, column_length(CheckPoint, "item")),
            "due": row.date("due"),
            "status": row.choice("status", CheckPointStatus, members=IMPORTED_STATUSES),
        }


class Problems(UnitScoped):
    """问题台账: one per (period, unit, title, found_on); a closing date closes (销号) the problem.

    States move by the problem state machine (``PROBLEM_TRANSITIONS``) and each move is a step of the problem's
    history, as on the console: a new problem is filed (登记, FILE), a closing date closes it (销号, CLOSE). A
    blank closing date on a problem the ledger has closed is a row error: only the look-back (回头看) reopens.
    New problems take the next ledger numbers of their year (``take_numbers``, once per year, in file order); the
    optional ``class`` column says who solves it (default ``unit``). Option ``reporter``: the id of the linkage
    department whose spreadsheet this is (the console's linkage page), kept on the new problems and their steps.
    """

    model = Problem
    key = ("unit_id", "title", "found_on")
    key_column = "title"
    fields: ClassVar[dict] = {
        "source": None,
        "severity": None,
        "deadline": None,
        "closed_on": "closed_on",
        "category": "category",
        "responsible": "responsible",
        "problem_class": "class",
        "state": None,
    }
    duplicate_en, duplicate_zh = (
        "problem '{v}' of this unit found on the same day",
        "本单位同日发现的问题“{v}”",
    )

    def parse(self, row):
        record = {
            "unit_id": self.unit_id(row),
            "title": row.text("title", True, column_length(Problem, "title")),
            "source": row.choice("source", ProblemSource),
            "severity": row.choice("severity", Severity),
            "found_on": row.date("found_on"),
            "deadline": row.date("deadline"),
            "closed_on": row.date("closed_on", required=False),
        }
        for column in ("category", "responsible"):
            if column in self.cols:
                record[column] = row.text(column, max_len=column_length(Problem, column))
        if "class" in self.cols:
            record["problem_class"] = row.choice("class", ProblemClass, required=False) or ProblemClass.UNIT
        found = record["found_on"]
        if found and record["deadline"] and record["deadline"] < found:
            row.bad(
                "deadline",
                record["deadline"],
                f"deadline {{v}} is before found_on {found}",
                f"整改期限{{v}}早于发现日期{found}",
            )
        if found and record["closed_on"] and record["closed_on"] < found:
            row.bad(
                "closed_on",
                record["closed_on"],
                f"closed_on {{v}} is before found_on {found}",
                f"销号日期{{v}}早于发现日期{found}",
            )
        return record

    def check_chunk(self, records):
        """Refuse a blank closing date on a problem that is closed (销号) in the ledger: an import does not reopen."""
        if "closed_on" not in self.cols:
            return records
        open_keys = {tuple(r[k] for k in self.key) for r in records if r["closed_on"] is None}
        if not open_keys:
            return records
        closed = {
            tuple(r)
            for r in db.session.execute(
                select(Problem.unit_id, Problem.title, Problem.found_on).where(
                    Problem.period_id == self.period.id,
                    Problem.state == ProblemState.CLOSED,
                    Problem.unit_id.in_({key[0] for key in open_keys}),
                )
            )
        }
        kept = []
        for record in records:
            key = tuple(record[k] for k in self.key)
            if key in open_keys and key in closed:
                self.errors.add(
                    self.first_line[key],
                    "closed_on",
                    "",
                    f"problem '{record['title']}' is closed in the ledger: an import cannot reopen it, "
                    "use the look-back",
                    f"问题“{record['title']}”已销号：已销号的问题不能通过导入重新打开，请用回头看",
                )
            else:
                kept.append(record)
        return kept

    def derive(self, record, existing):
        # The state after FILE (new) or as stored, then CLOSE when the file gives a closing date.
        state = (
            existing["state"] if existing is not None else PROBLEM_TRANSITIONS[(ProblemState.OPEN, ProblemAction.FILE)]
        )
        if "closed_on" in self.cols:
            if record["closed_on"] is not None and state is not ProblemState.CLOSED:
                state = PROBLEM_TRANSITIONS[(state, ProblemAction.CLOSE)]
            elif record["closed_on"] is None and state is ProblemState.CLOSED:
                raise AssertionError("a reopening row passed check_chunk")  # refused there as a row error
        else:
            record.pop("closed_on", None)
        record["state"] = state
        if existing is None:
            # Written with a Core insert: the table's column is "class"; the number is taken in insert_new.
            if "problem_class" in record:
                record["class"] = record.pop("problem_class")
            record["year"] = record["found_on"].year
            if self.options.get("reporter") is not None:
                record["reporter_id"] = self.options["reporter"]
        return record

    def insert_new(self, new):
        """Number the new problems (one take_numbers per year, in file order), insert them, write their steps."""
        by_year = {}
        for record in new:
            by_year.setdefault(record["year"], []).append(record)
        connection = db.session.connection()
        for year, records in sorted(by_year.items()):
            for record, seq in zip(records, take_numbers(connection, year, len(records)), strict=True):
                record["seq"] = seq
        ids = insert_ids(Problem, new, ("seq", "year"))
        reporter = self.options.get("reporter")
        steps = []
        for problem_id, record in zip(ids, new, strict=True):
            note = f"来源：{record['source'].label}（导入：{self.filename}）"
            steps.append(
                self._step(problem_id, ProblemAction.FILE, record["found_on"], note, ProblemState.OPEN, reporter)
            )
            if record["state"] is ProblemState.CLOSED:
                steps.append(self._closing(problem_id, record["closed_on"]))
        bulk_insert(ProblemStep, steps)

    def written(self, changed):
        """A CLOSE step for each problem the file closed (its state changed, so it was not closed before)."""
        closing = [diff["id"] for diff in changed if diff.get("state") is ProblemState.CLOSED]
        if not closing:
            return
        closed_on = dict(db.session.execute(select(Problem.id, Problem.closed_on).where(Problem.id.in_(closing))).all())
        bulk_insert(ProblemStep, [self._closing(problem_id, closed_on[problem_id]) for problem_id in closing])

    def _closing(self, problem_id, on):
        return self._step(problem_id, ProblemAction.CLOSE, on, f"导入销号：{self.filename}", ProblemState.CLOSED, None)

    def _step(self, problem_id, action, on, note, state_after, participant_id):
        """One problem_steps row (bulk_insert takes no Python defaults: `at` is given)."""
        return {
            "problem_id": problem_id,
            "action": action,
            "on": on,
            "note": note,
            "actor": self.actor,
            "participant_id": participant_id,
            "state_after": state_after,
            "at": utcnow(),
        }


class Bonuses(UnitScoped):
    """加分项: one per (period, unit, reason), points in (0, 100]."""

    model = BonusItem
    key = ("unit_id", "reason")
    key_column = "reason"
    fields: ClassVar[dict] = {"points": None}
    duplicate_en, duplicate_zh = "bonus reason '{v}' of this unit", "本单位的加分事由“{v}”"

    def parse(self, row):
        return {
            "unit_id": self.unit_id(row),
            "reason": row.text("reason", True, column_length(BonusItem, "reason")),
            "points": row.number("points", 0, 100, low_open=True),
        }


class InstitutionScores(UnitScoped):
    """事业单位绩效考核得分: one score 0-100 per (period, unit)."""

    model = InstitutionScore
    key = ("unit_id",)
    key_column = "unit_code"
    fields: ClassVar[dict] = {"score": None}
    duplicate_en, duplicate_zh = "unit '{v}'", "单位“{v}”"

    def parse(self, row):
        return {"unit_id": self.unit_id(row), "score": row.number("score", 0, 100)}
