"""The organisation kinds: units (被评价单位), towns (镇街) and raters (评价人), keyed by their codes."""

from difflib import get_close_matches
from typing import ClassVar

from sqlalchemy import select

from ....extensions import db
from ....models import Rater, RaterGroup, Town, Unit, UnitKind
from ..cells import column_length
from .base import Upsert


class Units(Upsert):
    """被评价单位 by code; the staffing columns are written only when the file has them.

    The category (分类排名组) decides whom a unit is ranked with, so a mistyped one would quietly rank a unit
    alone: a category no stored unit has is a row error listing the known ones, unless the import allows new
    categories (option ``new_categories``: the console's checkbox, ``--new-categories``) or no unit is stored
    yet (the first units file defines the categories). It is checked once the row's own cells are valid, as
    the checks against the database are.
    """

    model = Unit
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields: ClassVar[dict] = {
        "name": None,
        "kind": None,
        "category": None,
        "establishment": "establishment",
        "actual_staff": "actual_staff",
        "leader_posts": "leader_posts",
        "leaders_in_post": "leaders_in_post",
    }
    duplicate_en, duplicate_zh = "unit code '{v}'", "单位编码“{v}”"

    def prepare(self):
        super().prepare()
        self.categories = set(db.session.execute(select(Unit.category).distinct()).scalars())
        self.allow_new = bool(self.options.get("new_categories")) or not self.categories
        #: Categories the file brings in, in the order first met.
        self.added = {}

    def check(self, row):
        record = super().check(row)
        if record is None:
            return None
        category = record["category"]
        if category not in self.categories:
            if not self.allow_new:
                known = sorted(self.categories)
                close = get_close_matches(category, known, n=1, cutoff=0.5)
                hint_en = f" (did you mean '{close[0]}'?)" if close else ""
                hint_zh = f"，是否应为“{close[0]}”？" if close else ""
                row.bad(
                    "category",
                    category,
                    f"unknown category '{{v}}'{hint_en}; known: {', '.join(known)}; if it is a new category, "
                    "import again with --new-categories",
                    f"分类“{{v}}”不存在{hint_zh}（已有：{'、'.join(known)}）；"
                    "如确为新增分类，请勾选“允许新增分类”后重新导入",
                )
                return None
            self.added.setdefault(category, row.line)
        return record

    def finish(self):
        if self.added:
            self.counts["new_categories"] = list(self.added)

    def parse(self, row):
        record = {
            "code": row.text("code", True, column_length(Unit, "code")),
            "name": row.text("name", True, column_length(Unit, "name")),
            "kind": row.choice("kind", UnitKind),
            "category": row.text("category", True, column_length(Unit, "category")),
        }
        for column in ("establishment", "actual_staff", "leader_posts", "leaders_in_post"):
            if column in self.cols:
                record[column] = row.integer(column, 0)
        return record


class Towns(Upsert):
    """镇街 by code."""

    model = Town
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields: ClassVar[dict] = {"name": None}
    duplicate_en, duplicate_zh = "town code '{v}'", "镇街编码“{v}”"

    def parse(self, row):
        return {
            "code": row.text("code", True, column_length(Town, "code")),
            "name": row.text("name", True, column_length(Town, "name")),
        }


class Raters(Upsert):
    """评价人 by code: a department rater needs a unit, a grassroots rater a town."""

    model = Rater
    key = ("code",)
    key_column = "code"
    period_scoped = False
    fields: ClassVar[dict] = {
        "name": None,
        "group": None,
        "town_id": "town_code",
        "unit_id": "unit_code",
        "phone": "phone",
    }
    duplicate_en, duplicate_zh = "rater code '{v}'", "评价人编码“{v}”"

    def prepare(self):
        super().prepare()
        self.towns = self.code_map(Town)
        self.units = self.code_map(Unit)

    def parse(self, row):
        record = {
            "code": row.text("code", True, column_length(Rater, "code")),
            "name": row.text("name", True, column_length(Rater, "name")),
            "group": row.choice("group", RaterGroup),
        }
        if "town_code" in self.cols:
            record["town_id"] = self.lookup(row, "town_code", self.towns, "town code", "镇街编码", required=False)
        if "unit_code" in self.cols:
            record["unit_id"] = self.lookup(row, "unit_code", self.units, "unit code", "单位编码", required=False)
        if "phone" in self.cols:
            record["phone"] = row.phone("phone", max_len=column_length(Rater, "phone"))
        # A department rater rates for its unit (and never rates it in peer review); a grassroots rater
        # belongs to a town.
        if record["group"] is RaterGroup.DEPARTMENT and row.raw("unit_code") == "":
            row.bad("unit_code", "", "a department rater needs a unit_code", "部门评价人须填写所属单位编码")
        if record["group"] is RaterGroup.GRASSROOTS and row.raw("town_code") == "":
            row.bad("town_code", "", "a grassroots rater needs a town_code", "镇街干部评价人须填写所属镇街编码")
        return record
