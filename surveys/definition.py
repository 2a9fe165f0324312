"""Questionnaire (问卷) definitions as objects: instruments, their questions and scales, the names they may
use. Loading and validating a file is ``loader``; writing definitions and the question list is ``dump``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .answers import ANSWER_TYPES, AnswerError

#: Instruments of the default scheme, in the order they are listed and exported.
INSTRUMENT_ORDER = ("grassroots", "leader", "peer", "self", "deputy", "expert")

#: Rater groups (评价人分组); peer and self are both answered by ``department``.
RATER_GROUPS = ("grassroots", "leader", "department", "deputy", "expert")

#: Which units a rater of the instrument rates: every unit, every unit but the rater's own, or only it.
TARGETS = ("all_units", "other_units", "own_unit")

#: Rater group and targets each known instrument must have (scoring.md "Instruments and their questions").
KNOWN_INSTRUMENTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "grassroots": ("grassroots", "all_units"),
        "leader": ("leader", "all_units"),
        "peer": ("department", "other_units"),
        "self": ("department", "own_unit"),
        "deputy": ("deputy", "all_units"),
        "expert": ("expert", "all_units"),
    }
)

#: The four themes of 基层评作为; each is a leaf of the default scheme.
GRASSROOTS_THEMES: Mapping[str, str] = MappingProxyType(
    {
        "territorial": "属地管理责任",
        "response": "乡呼县应、上下联动",
        "burden": "为镇街减负",
        "support": "支持镇街发展",
    }
)

#: Columns of ``assessment instruments --format csv`` (interfaces.md).
CSV_COLUMNS = ("instrument", "question", "theme", "type", "weight", "text")

DEFAULT_NA_LABEL = "不了解"

_TOP_KEYS = (
    "key",
    "version",
    "title",
    "rater_group",
    "targets",
    "intro",
    "allow_na",
    "na_label",
    "themes",
    "scales",
    "questions",
)
_QUESTION_KEYS = ("id", "theme", "type", "weight", "text", "help")
_SCALE_KEYS = {"likert5": ("labels",), "score100": ("min", "max")}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ID_RULE = "lowercase ascii letters, digits and _, starting with a letter, at most 32 characters"


def _plain_number(value: float) -> int | float:
    """1.0 → 1, 1.5 → 1.5: weights are written the way a person would write them."""
    return int(value) if float(value).is_integer() else float(value)


class DefinitionError(ValueError):
    """A definition (or several) failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Question:
    """One question: its id (unique in the instrument), theme, answer type, weight and text."""

    id: str
    theme: str
    type: str
    weight: float
    text: str
    help: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The question as written in a definition file (``help`` only when there is one)."""
        data: dict[str, Any] = {
            "id": self.id,
            "theme": self.theme,
            "type": self.type,
            "weight": _plain_number(self.weight),
            "text": self.text,
        }
        if self.help is not None:
            data["help"] = self.help
        return data


@dataclass(frozen=True)
class Scale:
    """An answer scale as the rater sees it: range and, for choices, their labels (highest first)."""

    type: str
    min: int
    max: int
    #: Choice value → label, e.g. 5 → 非常满意; empty for a free number (score100).
    labels: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        if ANSWER_TYPES[self.type].whole:
            return {"labels": dict(self.labels)}
        return {"min": self.min, "max": self.max}

    def __hash__(self) -> int:
        return hash((self.type, self.min, self.max, tuple(self.labels.items())))


@dataclass(frozen=True)
class InstrumentDefinition:
    """A validated, immutable questionnaire definition (问卷定义), one version of one instrument."""

    key: str
    version: int
    title: str
    rater_group: str
    targets: str
    intro: str
    allow_na: bool
    na_label: str
    #: Theme id → display name, in file order.
    themes: Mapping[str, str]
    #: Answer type → Scale, for every type the file defines (at least those its questions use).
    scales: Mapping[str, Scale]
    questions: tuple[Question, ...]

    def __hash__(self) -> int:
        return hash((self.key, self.version, self.questions))

    def question(self, question_id: str) -> Question:
        """The question with this id; KeyError if the instrument has none."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"instrument '{self.key}' has no question '{question_id}'")

    def questions_for_theme(self, theme: str) -> tuple[Question, ...]:
        """The questions of one theme, in file order (e.g. one grassroots leaf)."""
        return tuple(q for q in self.questions if q.theme == theme)

    def accepts_target(self, rater_unit: str | None, target_unit: str) -> bool:
        """May a rater belonging to ``rater_unit`` (None if none) rate ``target_unit`` with this instrument?

        ``other_units`` (部门互评) never lets a department rate itself; ``own_unit`` (自评) only itself.
        """
        if self.targets == "other_units":
            return rater_unit is not None and rater_unit != target_unit
        if self.targets == "own_unit":
            return rater_unit is not None and rater_unit == target_unit
        return True

    def parse_answer(self, question_id: str, raw: object) -> float | None:
        """Parse a raw answer to one question of this instrument; None is 不了解. Raises ValueError.

        Besides the answer type's checks, refuses an unknown question and ``na`` where the
        instrument does not allow 不了解.
        """
        try:
            question = self.question(question_id)
        except KeyError:
            raise AnswerError(
                f"instrument '{self.key}' has no question '{question_id}'", f"问卷中没有题目 {question_id}"
            ) from None
        value = ANSWER_TYPES[question.type].parse(raw)
        if value is None and not self.allow_na:
            raise AnswerError(
                f"instrument '{self.key}' does not allow na for question '{question_id}'",
                f"该问卷不设“{self.na_label}”选项",
            )
        return value

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data, in file order; ``load_definition(d.to_dict()) == d``."""
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "rater_group": self.rater_group,
            "targets": self.targets,
            "intro": self.intro,
            "allow_na": self.allow_na,
            "na_label": self.na_label,
            "themes": dict(self.themes),
            "scales": {name: scale.to_dict() for name, scale in self.scales.items()},
            "questions": [q.to_dict() for q in self.questions],
        }
