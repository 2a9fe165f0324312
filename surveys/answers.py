"""Answer types of questionnaire questions: one type → one parser and one points rule.

The responses import, the raters' web forms and the scoring read answers through this registry, so a
raw answer means the same thing wherever it comes from. ``na`` (不了解, "don't know") parses to ``None``:
the question gives no points and is left out of the rater's leaf score (scoring.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scoring.scheme import LIKERT_POINTS

#: Raw answers meaning "don't know" (不了解); compared after strip() and lower().
NA_TOKENS = frozenset({"na", "n/a", "不了解"})


class AnswerError(ValueError):
    """An answer that its type (or its questionnaire) refuses: `message_en` for the command line and imports,
    `message_zh` for the rater's page; str() is "English (中文)" as before."""

    def __init__(self, message_en: str, message_zh: str):
        super().__init__(f"{message_en} ({message_zh})")
        self.message_en, self.message_zh = message_en, message_zh


@dataclass(frozen=True)
class AnswerType:
    """A kind of answer: its range, whether it must be whole, its default labels and its points rule."""

    name: str
    #: Chinese name shown to the office, e.g. 五级满意度.
    label: str
    min: int
    max: int
    #: Only whole numbers are valid answers (a Likert choice), else any number in [min, max].
    whole: bool
    #: Default choice labels (value → label), highest first; empty for a free number.
    default_labels: Mapping[int, str]
    #: Points 0-100 of each whole answer in the default method (the engine's table); None: the answer is points.
    points_table: Mapping[int, float] | None = None

    def parse(self, raw: object) -> float | None:
        """Parse one raw answer (import cell, form value) into a float, or None for 不了解.

        Accepts strings (surrounding spaces ignored), ints and floats such as XLSX cells give
        (``4.0`` is a valid likert5 answer). Raises ValueError with a message that names the
        answer and the type, in English and Chinese (AnswerError, a ValueError).
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise AnswerError(f"answer is empty for {self.name}", "答案为空；不了解请填 na")
        text = raw.strip() if isinstance(raw, str) else str(raw)
        if text.lower() in NA_TOKENS:
            return None
        if isinstance(raw, bool):
            value = math.nan  # True/False are not answers, though Python treats them as 1/0
        elif isinstance(raw, (int, float)):
            value = float(raw)
        else:
            try:
                value = float(text)
            except ValueError:
                value = math.nan
        expected = f"{self.min}-{self.max}"
        if not math.isfinite(value):
            raise AnswerError(
                f"answer '{text}' is not a number for {self.name}", f"答案不是有效数字，应为 {expected}，不了解请填 na"
            )
        if not self.min <= value <= self.max:
            raise AnswerError(
                f"answer '{text}' out of range {expected} for {self.name}", f"答案超出范围，应为 {expected}"
            )
        if self.whole and not value.is_integer():
            raise AnswerError(f"answer '{text}' is not a whole number for {self.name}", f"答案应为 {expected} 的整数")
        return value

    def points(self, value: float) -> float:
        """Points 0-100 for a parsed answer in the default method: likert5 through the engine's table
        (``scoring.scheme.LIKERT_POINTS``, (answer − 1) × 25), score100 the answer itself. A period's scheme may
        change the likert table; the engine applies it when scoring."""
        if self.points_table is None:
            return float(value)
        return self.points_table[int(value)]


LIKERT5 = AnswerType(
    name="likert5",
    label="五级满意度",
    min=1,
    max=5,
    whole=True,
    default_labels=MappingProxyType({5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}),
    points_table=LIKERT_POINTS,
)
SCORE100 = AnswerType(
    name="score100",
    label="百分制评分",
    min=0,
    max=100,
    whole=False,
    default_labels=MappingProxyType({}),
)

#: Registry of answer types by name, as written in a question's ``type``.
ANSWER_TYPES: Mapping[str, AnswerType] = MappingProxyType({t.name: t for t in (LIKERT5, SCORE100)})


def parse_answer(type_name: str, raw: object) -> float | None:
    """Parse ``raw`` as an answer of the named type; None means 不了解. Raises ValueError."""
    try:
        answer_type = ANSWER_TYPES[type_name]
    except KeyError:
        known = ", ".join(ANSWER_TYPES)
        raise AnswerError(f"unknown answer type '{type_name}' (expected {known})", "未知的题型") from None
    return answer_type.parse(raw)
