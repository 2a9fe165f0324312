"""The scoring scheme (评分方案): the indicator tree, the weights and every setting of the method.

This module is the scheme's model: the settings as frozen dataclasses, the names they may take and
``SchemeError``. Reading and validating a YAML document is ``scheme_loader.load_scheme``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

#: Questionnaire instruments and the rater group that answers each (peer and self: group ``department``).
INSTRUMENT_GROUP: dict[str, str] = {
    "grassroots": "grassroots",
    "leader": "leader",
    "peer": "department",
    "self": "department",
    "deputy": "deputy",
    "expert": "expert",
}
INSTRUMENTS: tuple[str, ...] = tuple(INSTRUMENT_GROUP)
#: Leaf sources that are not questionnaires and carry a positive weight.
LEDGER_SOURCES: tuple[str, ...] = ("checkpoints", "public", "institution")
#: Leaf sources that are deductions (负面指标): points taken off, no weight.
DEDUCTION_SOURCES: tuple[str, ...] = ("problems", "overdue")
SOURCES: tuple[str, ...] = LEDGER_SOURCES + INSTRUMENTS + DEDUCTION_SOURCES
#: Themes of the grassroots questions (基层评作为): 属地管理责任, 乡呼县应, 为镇街减负, 支持镇街发展.
DEFAULT_THEMES: tuple[str, ...] = ("territorial", "response", "burden", "support")
SEVERITIES: tuple[str, ...] = ("general", "serious", "grave")
TRIM_METHODS: tuple[str, ...] = ("one_each", "proportion", "none")
PUBLIC_METHODS: tuple[str, ...] = ("bayes", "wilson")
GRADES: tuple[str, ...] = ("excellent", "good", "fair", "poor")

#: Points 0-100 of a five-level answer (likert5 question, public rating level) in the default method: (level - 1) x 25.
#: The one source of this rule; surveys' answer types and a scheme's default tables read it.
LIKERT_POINTS = MappingProxyType({1: 0.0, 2: 25.0, 3: 50.0, 4: 75.0, 5: 100.0})
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemeError(ValueError):
    """A scheme that cannot be used; ``messages`` lists every problem, each prefixed by its path (English, for
    the command line and logs); the app says them in Chinese (assessment.office.scheme_messages)."""

    def __init__(self, messages: list[str], data: dict | None = None):
        self.messages = list(messages)
        #: The scheme mapping as read, so a Chinese message can name a leaf by its name (第 3 项指标「专家评价」).
        self.data = data
        super().__init__("invalid scheme:\n" + "\n".join(f"- {m}" for m in self.messages))


@dataclass(frozen=True)
class Leaf:
    """One tertiary indicator: where its score comes from and its weight (points of 100)."""

    id: str
    name: str
    level1: str
    level2: str
    source: str
    #: Share of the composite in points of 100; 0 for deduction leaves, which have no weight.
    weight: float
    #: Question theme the leaf is limited to (questionnaire leaves only); None: all the instrument's
    #: questions.
    theme: str | None = None
    #: Option (Zibo): replace the score by rank-step points within the category (100, 100 - step, ...,
    #: floor 60).
    rank_step: float | None = None

    @property
    def is_questionnaire(self) -> bool:
        """Scored from questionnaire answers (its source is an instrument)."""
        return self.source in INSTRUMENT_GROUP

    @property
    def is_deduction(self) -> bool:
        """A deduction leaf (problems, overdue): points taken off the composite, no weight."""
        return self.source in DEDUCTION_SOURCES


@dataclass(frozen=True)
class Trimming:
    """How rater scores are trimmed before averaging (去掉一个最高分、一个最低分)."""

    #: ``one_each``: drop one highest and one lowest when n >= from_n; ``proportion``: drop
    #: floor(proportion x n) from each end; ``none``: plain mean.
    method: str = "one_each"
    from_n: int = 5
    proportion: float = 0.1


@dataclass(frozen=True)
class PublicSettings:
    """How the public ratings (好差评) become the ``public`` leaf."""

    #: ``bayes``: (n*mean + m*C)/(n + m); ``wilson``: 100 x Wilson lower bound of the good rate.
    method: str = "bayes"
    m: float = 30.0
    z: float = 1.96
    #: Count system-default ratings (默认好评) like real ones (off: they are left out).
    count_defaults: bool = False
    #: Rating level -> points (5 = 非常满意 very satisfied).
    level_points: dict[int, float] = field(default_factory=lambda: dict(LIKERT_POINTS))


@dataclass(frozen=True)
class DeductionSettings:
    """Severity points of problems and the cap of the total deduction (points)."""

    points: dict[str, float] = field(default_factory=lambda: {"general": 0.5, "serious": 1.0, "grave": 2.0})
    cap: float = 10.0


@dataclass(frozen=True)
class GradeSettings:
    """Grade thresholds: shares of the category and composite points."""

    excellent_share: float = 0.2
    poor_share: float = 0.1
    poor_below: float = 60.0
    good_from: float = 80.0


@dataclass(frozen=True)
class SensitivitySettings:
    """Monte Carlo robustness check; changes no score."""

    draws: int = 1000
    seed: int = 20240601
    #: Every positive weight is multiplied by U[1 - weight_spread, 1 + weight_spread].
    weight_spread: float = 0.25
    trim_probability: float = 0.5
    m_choices: tuple[float, ...] = (15.0, 30.0, 60.0)
    #: Units that keep their grade in fewer draws than this share are flagged for review.
    review_below: float = 0.8


@dataclass(frozen=True)
class Scheme:
    """A validated scheme: leaves in display order plus every setting of the method."""

    leaves: tuple[Leaf, ...]
    version: str = "1"
    name: str = ""
    themes: tuple[str, ...] = DEFAULT_THEMES
    #: likert5 answer -> points; score100 answers are points already.
    answer_points: dict[int, float] = field(default_factory=lambda: dict(LIKERT_POINTS))
    #: Fewest counted raters for a questionnaire leaf to have a value, per instrument.
    min_n: dict[str, int] = field(
        default_factory=lambda: {"grassroots": 5, "leader": 1, "peer": 3, "self": 1, "deputy": 3, "expert": 3}
    )
    trimming: Trimming = field(default_factory=Trimming)
    #: Option: score mu + unit effect of points = mu + rater effect + unit effect (per instrument).
    rater_effect: bool = False
    public: PublicSettings = field(default_factory=PublicSettings)
    deduction: DeductionSettings = field(default_factory=DeductionSettings)
    bonus_cap: float = 3.0
    coverage_min: float = 0.65
    grades: GradeSettings = field(default_factory=GradeSettings)
    #: Share of the city's comprehensive assessment, in points (4 = 4%).
    assessment_share: float = 4.0
    #: Suggested establishment reduction for ``restrict``: ceil(share x establishment), at most the vacancies.
    reduction_share: float = 0.05
    #: Straight-lining: at least this many answers, all equal.
    straight_line_min: int = 8
    sensitivity: SensitivitySettings = field(default_factory=SensitivitySettings)

    def leaf(self, leaf_id: str) -> Leaf:
        """The leaf with this id (KeyError if none)."""
        for leaf in self.leaves:
            if leaf.id == leaf_id:
                return leaf
        raise KeyError(leaf_id)

    def leaf_min_n(self, leaf: Leaf) -> int | None:
        """The fewest counted raters for the leaf to have a value; None for a leaf not scored from raters."""
        return self.min_n.get(leaf.source) if leaf.is_questionnaire else None

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form of the scheme (all settings spelled out)."""
        data = asdict(self)
        data["leaves"] = [{k: v for k, v in leaf.items() if v is not None} for leaf in data["leaves"]]
        for leaf in data["leaves"]:
            if leaf["source"] in DEDUCTION_SOURCES:
                del leaf["weight"]
        data["themes"] = list(self.themes)
        data["sensitivity"]["m_choices"] = list(self.sensitivity.m_choices)
        return data

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of ``to_dict()``: equal for schemes that score identically,
        whatever the YAML's layout or comments."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
