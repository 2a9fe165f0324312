"""The ledger kinds of a period, keyed by the unit: check points (问效点), problems (问题台账),
bonuses (加分项) and institution scores (事业单位绩效考核得分)."""

from typing import ClassVar

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
from ....models.checkpoints import IMPORTED_STATUSES
from ....models.ledger import take_numbers
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

    A new problem takes the next ledger number of its year (``take_numbers``, in file order); the optional
    ``class`` column says who solves it (default ``unit``). Option ``reporter``: the id of the linkage department
    whose spreadsheet this is (the console's linkage page), kept on the new problems.
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

    def derive(self, record, existing):
        # A closing date closes (销号) the problem; a problem re-opened by the file goes back to open.
        if record["closed_on"] is not None:
            state = ProblemState.CLOSED
        elif existing is None or existing["state"] is ProblemState.CLOSED:
            state = ProblemState.OPEN
        else:
            state = existing["state"]
        if existing is not None and "closed_on" not in self.cols:
            state = existing["state"]
        record["state"] = state
        if "closed_on" not in self.cols:
            record.pop("closed_on", None)
        if existing is None:
            # Written with a Core insert: the table's column is "class", and the number is taken here.
            if "problem_class" in record:
                record["class"] = record.pop("problem_class")
            record["year"] = record["found_on"].year
            record["seq"] = take_numbers(db.session.connection(), record["year"])[0]
            if self.options.get("reporter") is not None:
                record["reporter_id"] = self.options["reporter"]
        return record


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
