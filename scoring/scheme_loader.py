"""Loading a scoring scheme (评分方案) from YAML: validated completely before use.

A scheme is a YAML document the office can edit. ``load_scheme`` validates it completely and raises one
``SchemeError`` that lists every problem found, each message starting with the path of the offending value
(``leaves[3].weight: must be >= 0``). Settings left out take the default method of ``scoring.md``; the list of
leaves is always required. The packaged default scheme is ``default_scheme.yaml`` (``default_scheme_text()``).
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import yaml

from .scheme import (
    _ID,
    DEDUCTION_SOURCES,
    DEFAULT_THEMES,
    INSTRUMENT_GROUP,
    INSTRUMENTS,
    PUBLIC_METHODS,
    SEVERITIES,
    SOURCES,
    TRIM_METHODS,
    DeductionSettings,
    GradeSettings,
    Leaf,
    PublicSettings,
    Scheme,
    SchemeError,
    SensitivitySettings,
    Trimming,
)


def default_scheme_text() -> str:
    """The YAML text of the default Zhucheng scheme of scoring.md (packaged with ``scoring``)."""
    return resources.files("scoring").joinpath("default_scheme.yaml").read_text(encoding="utf-8")


def default_scheme() -> Scheme:
    """The default scheme, loaded and validated."""
    return load_scheme(default_scheme_text())


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_scheme(text: str) -> Scheme:
    """Parse and validate a scheme YAML document.

    Why: the office edits schemes by hand and every result stores the scheme it used, so a scheme is checked
    completely before use. Raises ``SchemeError`` listing every problem; settings left out take the defaults
    of the scoring.md method.
    """
    try:
        # libyaml's parser when installed (same safe constructor, ~10x faster: a score run loads its scheme);
        # a document it refuses is read again by the pure-Python parser, whose message is the one shown.
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemeError([f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise SchemeError(["the scheme must be a YAML mapping"])
    reader = _Reader()
    scheme = reader.scheme(data)
    if reader.errors:
        raise SchemeError(reader.errors, data)
    return scheme


def _fmt(x: float) -> str:
    return f"{x:g}"


class _Reader:
    """Reads a scheme mapping, collecting error messages instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, msg: str) -> None:
        self.errors.append(msg)

    def keys(self, data: dict, allowed: set[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                where = f"{path}: " if path else ""
                self.error(f"{where}unknown key '{key}' (expected {', '.join(sorted(allowed))})")

    def mapping(self, data: dict, key: str, path: str) -> dict:
        value = data.get(key, {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(f"{path}: must be a mapping")
            return {}
        return value

    def number(
        self,
        data: dict,
        key: str,
        path: str,
        default: float | None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        below: float | None = None,
        above: float | None = None,
        integer: bool = False,
        negative_msg: str = "must not be negative",
    ) -> Any:
        if key not in data or data[key] is None:
            if default is None:
                self.error(f"{path}: is required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.error(f"{path}: must be {'a whole number' if integer else 'a number'}")
            return default
        if integer and value != int(value):
            self.error(f"{path}: must be a whole number")
            return default
        if minimum is not None and value < minimum:
            self.error(f"{path}: {negative_msg}" if minimum == 0 else f"{path}: must be >= {_fmt(minimum)}")
        if maximum is not None and value > maximum:
            self.error(f"{path}: must be <= {_fmt(maximum)}")
        if below is not None and value >= below:
            self.error(f"{path}: must be < {_fmt(below)}")
        if above is not None and value <= above:
            self.error(f"{path}: must be > {_fmt(above)}")
        return int(value) if integer else float(value)

    def text(self, data: dict, key: str, path: str, default: str | None) -> Any:
        if key not in data or data[key] is None:
            if default is None:
                self.error(f"{path}: is required")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(f"{path}: must be text")
            return default
        return str(value)

    def choice(self, data: dict, key: str, path: str, default: str, choices: tuple[str, ...]) -> str:
        value = data.get(key, default)
        if value not in choices:
            self.error(f"{path}: unknown value '{value}' (expected {', '.join(choices)})")
            return default
        return value

    def flag(self, data: dict, key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(f"{path}: must be true or false")
            return default
        return value

    def points_table(self, value: Any, path: str, keys: tuple, default: dict) -> dict:
        if value is None:
            return dict(default)
        if not isinstance(value, dict):
            self.error(f"{path}: must be a mapping")
            return dict(default)
        if set(value) != set(keys):
            self.error(f"{path}: must give points for exactly {', '.join(str(k) for k in keys)}")
            return dict(default)
        return {k: self.number(value, k, f"{path}.{k}", default[k], minimum=0, maximum=100) for k in keys}

    # -- sections ----------------------------------------------------------------------------------------

    def scheme(self, data: dict) -> Scheme:
        base = Scheme(leaves=())
        self.keys(
            data,
            {
                "version",
                "name",
                "themes",
                "answer_points",
                "min_n",
                "trimming",
                "rater_effect",
                "public",
                "deduction",
                "bonus_cap",
                "coverage_min",
                "grades",
                "assessment_share",
                "reduction_share",
                "straight_line_min",
                "sensitivity",
                "leaves",
            },
            "",
        )
        themes = self.themes(data.get("themes"))
        answer_points = self.points_table(
            data.get("answer_points"), "answer_points", (1, 2, 3, 4, 5), base.answer_points
        )
        values = [answer_points[k] for k in (1, 2, 3, 4, 5)]
        if any(b < a for a, b in zip(values, values[1:], strict=False)):
            self.error("answer_points: points must not decrease as the answer rises")
        leaves = self.leaves(data.get("leaves"), themes)
        return Scheme(
            leaves=leaves,
            version=self.text(data, "version", "version", base.version),
            name=self.text(data, "name", "name", base.name),
            themes=themes,
            answer_points=answer_points,
            min_n=self.min_n(data),
            trimming=self.trimming(self.mapping(data, "trimming", "trimming")),
            rater_effect=self.flag(data, "rater_effect", "rater_effect", base.rater_effect),
            public=self.public(self.mapping(data, "public", "public")),
            deduction=self.deduction(self.mapping(data, "deduction", "deduction")),
            bonus_cap=self.number(data, "bonus_cap", "bonus_cap", base.bonus_cap, minimum=0),
            coverage_min=self.number(data, "coverage_min", "coverage_min", base.coverage_min, minimum=0, maximum=1),
            grades=self.grades(self.mapping(data, "grades", "grades")),
            assessment_share=self.number(
                data, "assessment_share", "assessment_share", base.assessment_share, minimum=0
            ),
            reduction_share=self.number(
                data, "reduction_share", "reduction_share", base.reduction_share, minimum=0, maximum=1
            ),
            straight_line_min=self.number(
                data, "straight_line_min", "straight_line_min", base.straight_line_min, minimum=2, integer=True
            ),
            sensitivity=self.sensitivity(self.mapping(data, "sensitivity", "sensitivity")),
        )

    def themes(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return DEFAULT_THEMES
        if not isinstance(value, list) or not value or not all(isinstance(t, str) and _ID.match(t) for t in value):
            self.error("themes: must be a list of lower-case ids")
            return DEFAULT_THEMES
        if len(set(value)) != len(value):
            self.error("themes: must not repeat a theme")
        return tuple(value)

    def min_n(self, data: dict) -> dict[str, int]:
        table = dict(Scheme(leaves=()).min_n)
        given = self.mapping(data, "min_n", "min_n")
        for key in given:
            if key not in INSTRUMENT_GROUP:
                self.error(f"min_n: unknown instrument '{key}' (expected {', '.join(INSTRUMENTS)})")
            else:
                table[key] = self.number(given, key, f"min_n.{key}", table[key], minimum=1, integer=True)
        return table

    def trimming(self, data: dict) -> Trimming:
        d = Trimming()
        self.keys(data, {"method", "from_n", "proportion"}, "trimming")
        return Trimming(
            method=self.choice(data, "method", "trimming.method", d.method, TRIM_METHODS),
            from_n=self.number(data, "from_n", "trimming.from_n", d.from_n, minimum=3, integer=True),
            proportion=self.number(data, "proportion", "trimming.proportion", d.proportion, minimum=0, below=0.5),
        )

    def public(self, data: dict) -> PublicSettings:
        d = PublicSettings()
        self.keys(data, {"method", "m", "z", "count_defaults", "level_points"}, "public")
        return PublicSettings(
            method=self.choice(data, "method", "public.method", d.method, PUBLIC_METHODS),
            m=self.number(data, "m", "public.m", d.m, minimum=0),
            z=self.number(data, "z", "public.z", d.z, above=0),
            count_defaults=self.flag(data, "count_defaults", "public.count_defaults", d.count_defaults),
            level_points=self.points_table(
                data.get("level_points"), "public.level_points", (1, 2, 3, 4, 5), d.level_points
            ),
        )

    def deduction(self, data: dict) -> DeductionSettings:
        d = DeductionSettings()
        self.keys(data, {"points", "cap"}, "deduction")
        points = self.mapping(data, "points", "deduction.points")
        for key in points:
            if key not in SEVERITIES:
                self.error(f"deduction.points: unknown severity '{key}' (expected {', '.join(SEVERITIES)})")
        table = {s: self.number(points, s, f"deduction.points.{s}", d.points[s], minimum=0) for s in SEVERITIES}
        cap = self.number(data, "cap", "deduction.cap", d.cap, minimum=0)
        return DeductionSettings(points=table, cap=cap)

    def grades(self, data: dict) -> GradeSettings:
        d = GradeSettings()
        self.keys(data, {"excellent_share", "poor_share", "poor_below", "good_from"}, "grades")
        return GradeSettings(
            excellent_share=self.number(
                data, "excellent_share", "grades.excellent_share", d.excellent_share, minimum=0, maximum=1
            ),
            poor_share=self.number(data, "poor_share", "grades.poor_share", d.poor_share, minimum=0, maximum=1),
            poor_below=self.number(data, "poor_below", "grades.poor_below", d.poor_below, minimum=0, maximum=100),
            good_from=self.number(data, "good_from", "grades.good_from", d.good_from, minimum=0, maximum=100),
        )

    def sensitivity(self, data: dict) -> SensitivitySettings:
        d = SensitivitySettings()
        self.keys(
            data, {"draws", "seed", "weight_spread", "trim_probability", "m_choices", "review_below"}, "sensitivity"
        )
        m_choices = data.get("m_choices", list(d.m_choices))
        if (
            not isinstance(m_choices, list)
            or not m_choices
            or any(isinstance(m, bool) or not isinstance(m, (int, float)) or m < 0 for m in m_choices)
        ):
            self.error("sensitivity.m_choices: must be a list of numbers >= 0")
            m_choices = list(d.m_choices)
        return SensitivitySettings(
            draws=self.number(data, "draws", "sensitivity.draws", d.draws, minimum=0, integer=True),
            seed=self.number(data, "seed", "sensitivity.seed", d.seed, minimum=0, integer=True),
            weight_spread=self.number(
                data, "weight_spread", "sensitivity.weight_spread", d.weight_spread, minimum=0, below=1
            ),
            trim_probability=self.number(
                data, "trim_probability", "sensitivity.trim_probability", d.trim_probability, minimum=0, maximum=1
            ),
            m_choices=tuple(float(m) for m in m_choices),
            review_below=self.number(
                data, "review_below", "sensitivity.review_below", d.review_below, minimum=0, maximum=1
            ),
        )

    def leaves(self, value: Any, themes: tuple[str, ...]) -> tuple[Leaf, ...]:
        if not isinstance(value, list) or not value:
            self.error("leaves: must be a non-empty list")
            return ()
        leaves: list[Leaf] = []
        seen_ids: set[str] = set()
        seen_deductions: set[str] = set()
        for i, item in enumerate(value):
            path = f"leaves[{i}]"
            if not isinstance(item, dict):
                self.error(f"{path}: must be a mapping")
                continue
            self.keys(item, {"id", "name", "level1", "level2", "source", "weight", "theme", "rank_step"}, path)
            leaf_id = self.text(item, "id", f"{path}.id", None)
            if leaf_id is not None:
                if not _ID.match(leaf_id):
                    self.error(f"{path}.id: '{leaf_id}' must be lower-case letters, digits and _")
                elif leaf_id in seen_ids:
                    self.error(f"{path}.id: duplicate id '{leaf_id}'")
                seen_ids.add(leaf_id)
            source = item.get("source")
            if source is None:
                self.error(f"{path}.source: is required")
            elif source not in SOURCES:
                self.error(f"{path}.source: unknown leaf source '{source}' (expected {', '.join(SOURCES)})")
                source = None
            deduction = source in DEDUCTION_SOURCES
            if deduction:
                if source in seen_deductions:
                    self.error(f"{path}.source: '{source}' may appear only once")
                seen_deductions.add(source)
                if item.get("weight") is not None:
                    self.error(f"{path}.weight: a deduction leaf takes no weight")
                weight = 0.0
            else:
                weight = self.number(item, "weight", f"{path}.weight", None, minimum=0, negative_msg="must be >= 0")
            theme = item.get("theme")
            if theme is not None:
                if source is not None and source not in INSTRUMENT_GROUP:
                    self.error(f"{path}.theme: only questionnaire leaves have a theme")
                elif theme not in themes:
                    self.error(f"{path}.theme: unknown theme '{theme}' (expected {', '.join(themes)})")
            rank_step = None
            if item.get("rank_step") is not None:
                if deduction:
                    self.error(f"{path}.rank_step: a deduction leaf cannot be rank-stepped")
                else:
                    rank_step = self.number(item, "rank_step", f"{path}.rank_step", None, above=0, maximum=40)
            leaves.append(
                Leaf(
                    id=leaf_id or f"leaf{i}",
                    name=self.text(item, "name", f"{path}.name", leaf_id or ""),
                    level1=self.text(item, "level1", f"{path}.level1", ""),
                    level2=self.text(item, "level2", f"{path}.level2", ""),
                    source=source or "",
                    weight=weight if weight is not None else 0.0,
                    theme=theme,
                    rank_step=rank_step,
                )
            )
        total = sum(leaf.weight for leaf in leaves if leaf.weight > 0)
        if leaves and abs(total - 100) > 1e-9:
            self.error(f"positive weights add up to {_fmt(round(total, 9))}, expected 100")
        return tuple(leaves)
