"""Questionnaire (问卷) definitions: load, validate, dump and list them.

A definition is a YAML file under ``surveys/definitions/`` (one per instrument, named after its key).
Loading validates everything and reports every problem at once, each naming the file and the path of
the bad value, e.g. ``grassroots.yaml: questions[3].type: unknown type 'likert7' (expected likert5,
score100)``, so the office can fix a file in one pass. Unknown keys are errors: a typo such as
``wieght`` would otherwise be silently ignored.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import yaml

from .answers import ANSWER_TYPES

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
_REQUIRED_TOP_KEYS = ("key", "version", "title", "rater_group", "targets", "intro", "themes", "scales", "questions")
_QUESTION_KEYS = ("id", "theme", "type", "weight", "text", "help")
_SCALE_KEYS = {"likert5": ("labels",), "score100": ("min", "max")}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ID_RULE = "lowercase ascii letters, digits and _, starting with a letter, at most 32 characters"


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
            raise ValueError(
                f"instrument '{self.key}' has no question '{question_id}' (问卷中没有题目 {question_id})"
            ) from None
        value = ANSWER_TYPES[question.type].parse(raw)
        if value is None and not self.allow_na:
            raise ValueError(
                f"instrument '{self.key}' does not allow na for question '{question_id}' "
                f"(该问卷不设“{self.na_label}”选项)"
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


# ---------------------------------------------------------------------------------------------------
# YAML reading: safe loading, with duplicate mapping keys reported (PyYAML silently keeps the last).


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream: Any):
        super().__init__(stream)
        self.duplicate_keys: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = self.construct_object(key_node, deep=deep)
                try:
                    is_duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue
                if is_duplicate:
                    mark = key_node.start_mark
                    self.duplicate_keys.append(f"line {mark.line + 1}: duplicate key '{key}' (only one is allowed)")
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str, source: str) -> Any:
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([f"{source}: {where}YAML syntax error: {reason}"]) from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise DefinitionError([f"{source}: {p}" for p in loader.duplicate_keys])
    return data


# ---------------------------------------------------------------------------------------------------
# Validation


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (int, float)):
        return f"number {value}"
    return type(value).__name__


def _plain_number(value: float) -> int | float:
    """1.0 → 1, 1.5 → 1.5: weights are written the way a person would write them."""
    return int(value) if float(value).is_integer() else float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Checker:
    """Collects problems for one source, each as ``source: path: message``."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")

    def text(self, data: Mapping, name: str, path: str, required: bool = True) -> str | None:
        if name not in data or data[name] is None:
            if required:
                self.add(path, "missing")
            return None
        value = data[name]
        if not isinstance(value, str):
            self.add(path, f"expected text, got {_describe(value)}")
            return None
        if not value.strip():
            self.add(path, "empty")
            return None
        return value.strip()

    def unknown_keys(self, data: Mapping, allowed: Iterable[str], path: str, what: str) -> None:
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.add(
                    where, f"unknown {what} '{key}' (expected one of {', '.join(allowed)}){_did_you_mean(key, allowed)}"
                )

    def mapping(self, value: Any, path: str) -> Mapping | None:
        if not isinstance(value, Mapping):
            self.add(path, f"expected a mapping, got {_describe(value)}")
            return None
        return value


def _check_key(c: _Checker, data: Mapping) -> str | None:
    key = c.text(data, "key", "key")
    if key is not None and not _ID_RE.match(key):
        c.add("key", f"invalid instrument key '{key}' ({_ID_RULE})")
        return None
    return key


def _check_version(c: _Checker, data: Mapping) -> int | None:
    if data.get("version") is None:
        c.add("version", "missing")
        return None
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.add("version", f"expected a whole number of at least 1, got {_describe(version)}")
        return None
    return version


def _check_choice(c: _Checker, data: Mapping, name: str, choices: tuple[str, ...]) -> str | None:
    if data.get(name) is None:
        c.add(name, "missing")
        return None
    value = data[name]
    if value not in choices:
        c.add(name, f"unknown {name} {_describe(value)} (expected {', '.join(choices)}){_did_you_mean(value, choices)}")
        return None
    return value


def _check_targets(c: _Checker, key: str | None, rater_group: str | None, targets: str | None) -> None:
    if key in KNOWN_INSTRUMENTS:
        group_needed, targets_needed = KNOWN_INSTRUMENTS[key]
        if rater_group is not None and rater_group != group_needed:
            c.add(
                "rater_group",
                f"'{rater_group}' is inconsistent with key '{key}' ({key} is answered by rater group {group_needed})",
            )
        if targets is not None and targets != targets_needed:
            why = {
                "other_units": "a department never rates its own unit",
                "own_unit": "a department rates only its own unit",
                "all_units": "its raters rate every unit",
            }[targets_needed]
            c.add("targets", f"'{targets}' is inconsistent with key '{key}' ({key} must be {targets_needed}: {why})")
    elif targets in ("other_units", "own_unit") and rater_group not in (None, "department"):
        c.add(
            "targets",
            f"'{targets}' needs rater_group department (only department raters belong to a unit), got '{rater_group}'",
        )


def _check_na(c: _Checker, data: Mapping) -> tuple[bool, str]:
    allow_na = data.get("allow_na", True)
    if not isinstance(allow_na, bool):
        c.add("allow_na", f"expected true or false, got {_describe(allow_na)}")
        allow_na = True
    na_label = c.text(data, "na_label", "na_label", required=False)
    return allow_na, na_label or DEFAULT_NA_LABEL


def _check_themes(c: _Checker, data: Mapping, key: str | None) -> dict[str, str]:
    if data.get("themes") is None:
        c.add("themes", "missing")
        return {}
    raw = c.mapping(data["themes"], "themes")
    if raw is None:
        return {}
    if not raw:
        c.add("themes", "empty (at least one theme is needed)")
    themes: dict[str, str] = {}
    for theme_id in raw:
        path = f"themes.{theme_id}"
        if not isinstance(theme_id, str) or not _ID_RE.match(theme_id):
            c.add(path, f"invalid theme id {_describe(theme_id)} ({_ID_RULE})")
            continue
        label = c.text(raw, theme_id, path)
        if label is not None:
            themes[theme_id] = label
    if key == "grassroots":
        expected = set(GRASSROOTS_THEMES)
        for theme_id in raw:
            if isinstance(theme_id, str) and theme_id not in expected:
                c.add(
                    f"themes.{theme_id}",
                    f"not a grassroots theme (grassroots themes are exactly {', '.join(GRASSROOTS_THEMES)})",
                )
        for theme_id in GRASSROOTS_THEMES:
            if theme_id not in raw:
                c.add("themes", f"missing grassroots theme '{theme_id}' ({GRASSROOTS_THEMES[theme_id]})")
    return themes


def _check_scales(c: _Checker, data: Mapping) -> dict[str, Scale]:
    if data.get("scales") is None:
        c.add("scales", "missing")
        return {}
    raw = c.mapping(data["scales"], "scales")
    if raw is None:
        return {}
    scales: dict[str, Scale] = {}
    for name, spec in raw.items():
        path = f"scales.{name}"
        if name not in ANSWER_TYPES:
            c.add(
                path,
                f"unknown type {_describe(name)} (expected {', '.join(ANSWER_TYPES)})"
                f"{_did_you_mean(name, ANSWER_TYPES)}",
            )
            continue
        answer_type = ANSWER_TYPES[name]
        spec = c.mapping(spec, path)
        if spec is None:
            continue
        c.unknown_keys(spec, _SCALE_KEYS[name], path, "key")
        ok = True
        labels: dict[int, str] = {}
        if answer_type.whole:
            expected = list(range(answer_type.max, answer_type.min - 1, -1))
            raw_labels = c.mapping(spec.get("labels"), f"{path}.labels") if "labels" in spec else None
            if "labels" not in spec:
                c.add(f"{path}.labels", "missing")
                ok = False
            elif raw_labels is None:
                ok = False
            else:
                for value in raw_labels:
                    if value not in expected or isinstance(value, bool):
                        c.add(
                            f"{path}.labels.{value}",
                            f"not a choice of {name} (expected {answer_type.min}-{answer_type.max})",
                        )
                        ok = False
                for value in expected:
                    if value not in raw_labels:
                        c.add(f"{path}.labels", f"missing label for {value}")
                        ok = False
                    else:
                        label = c.text(raw_labels, value, f"{path}.labels.{value}")
                        if label is None:
                            ok = False
                        else:
                            labels[value] = label
                labels = {v: labels[v] for v in expected if v in labels}
        else:
            for bound, needed in (("min", answer_type.min), ("max", answer_type.max)):
                if bound not in spec:
                    c.add(f"{path}.{bound}", "missing")
                    ok = False
                elif not _is_number(spec[bound]) or spec[bound] != needed:
                    c.add(f"{path}.{bound}", f"must be {needed} for {name}, got {_describe(spec[bound])}")
                    ok = False
        if ok:
            scales[name] = Scale(type=name, min=answer_type.min, max=answer_type.max, labels=MappingProxyType(labels))
    return scales


def _check_questions(
    c: _Checker, data: Mapping, themes: Mapping[str, str], scales: Mapping[str, Scale], themes_ok: bool, scales_ok: bool
) -> list[Question]:
    if data.get("questions") is None:
        c.add("questions", "missing")
        return []
    raw = data["questions"]
    if not isinstance(raw, list):
        c.add("questions", f"expected a list, got {_describe(raw)}")
        return []
    if not raw:
        c.add("questions", "empty (at least one question is needed)")
    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path = f"questions[{i}]"
        item = c.mapping(item, path)
        if item is None:
            continue
        c.unknown_keys(item, _QUESTION_KEYS, path, "key")
        before = len(c.problems)

        qid = c.text(item, "id", f"{path}.id")
        if qid is not None:
            if not _ID_RE.match(qid):
                c.add(f"{path}.id", f"invalid id '{qid}' ({_ID_RULE})")
            elif qid in first_seen:
                c.add(f"{path}.id", f"duplicate id '{qid}' (first used at questions[{first_seen[qid]}])")
            else:
                first_seen[qid] = i

        theme = c.text(item, "theme", f"{path}.theme")
        if theme is not None and themes_ok and theme not in themes:
            c.add(
                f"{path}.theme",
                f"unknown theme '{theme}' (expected one of {', '.join(themes)}){_did_you_mean(theme, themes)}",
            )

        qtype = c.text(item, "type", f"{path}.type")
        if qtype is not None:
            if qtype not in ANSWER_TYPES:
                c.add(f"{path}.type", f"unknown type '{qtype}' (expected {', '.join(ANSWER_TYPES)})")
            elif scales_ok and qtype not in scales:
                c.add(f"{path}.type", f"type '{qtype}' has no scale under scales")

        weight = item.get("weight", 1)
        if not _is_number(weight) or not math.isfinite(weight) or weight <= 0:
            c.add(f"{path}.weight", f"expected a positive number, got {_describe(weight)}")

        text = c.text(item, "text", f"{path}.text")
        help_text = c.text(item, "help", f"{path}.help", required=False)

        if len(c.problems) == before:
            questions.append(Question(id=qid, theme=theme, type=qtype, weight=float(weight), text=text, help=help_text))

    if themes_ok and isinstance(raw, list):
        used = {q.get("theme") for q in raw if isinstance(q, Mapping)}
        for theme_id in themes:
            if theme_id not in used:
                c.add(f"themes.{theme_id}", "not used by any question")
    return questions


def load_definition(
    text_or_mapping: str | bytes | Mapping[str, Any], source: str = "<definition>", *, expected_key: str | None = None
) -> InstrumentDefinition:
    """Validate a definition given as YAML text or as already-parsed data, and build it.

    ``source`` names it in messages (usually the file name). ``expected_key``, when given, must
    equal the definition's ``key`` (load_file passes the file's stem, so ``grasroots:`` in
    grassroots.yaml is caught). Raises DefinitionError listing every problem.
    """
    if isinstance(text_or_mapping, bytes):
        text_or_mapping = text_or_mapping.decode("utf-8-sig")
    if isinstance(text_or_mapping, str):
        data = _read_yaml(text_or_mapping, source)
    else:
        data = text_or_mapping
    c = _Checker(source)
    if not isinstance(data, Mapping):
        c.add("", f"expected a mapping of {', '.join(_TOP_KEYS)} at the top level, got {_describe(data)}")
        raise DefinitionError(c.problems)

    c.unknown_keys(data, _TOP_KEYS, "", "top-level key")
    key = _check_key(c, data)
    if key is not None and expected_key is not None and key != expected_key:
        c.add("key", f"'{key}' does not match the file name (expected '{expected_key}')")
    version = _check_version(c, data)
    title = c.text(data, "title", "title")
    rater_group = _check_choice(c, data, "rater_group", RATER_GROUPS)
    targets = _check_choice(c, data, "targets", TARGETS)
    _check_targets(c, key, rater_group, targets)
    intro = c.text(data, "intro", "intro")
    allow_na, na_label = _check_na(c, data)

    n = len(c.problems)
    themes = _check_themes(c, data, key)
    themes_ok = len(c.problems) == n
    n = len(c.problems)
    scales = _check_scales(c, data)
    scales_ok = len(c.problems) == n
    questions = _check_questions(c, data, themes, scales, themes_ok, scales_ok)

    if c.problems:
        raise DefinitionError(c.problems)
    return InstrumentDefinition(
        key=key,
        version=version,
        title=title,
        rater_group=rater_group,
        targets=targets,
        intro=intro,
        allow_na=allow_na,
        na_label=na_label,
        themes=MappingProxyType(themes),
        scales=MappingProxyType(scales),
        questions=tuple(questions),
    )


def load_file(path: str | Path | Traversable) -> InstrumentDefinition:
    """Load and validate one definition file; its key must match its file name (grassroots.yaml)."""
    name = path.name if hasattr(path, "name") else Path(path).name
    if isinstance(path, str):
        path = Path(path)
    stem = name.rsplit(".", 1)[0]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([f"{name}: cannot read: {exc}"]) from None
    return load_definition(text, source=name, expected_key=stem)


def default_directory() -> Traversable:
    """The definitions shipped with the package (surveys/definitions)."""
    return resources.files(__package__) / "definitions"


def load_all(directory: str | Path | Traversable | None = None) -> dict[str, InstrumentDefinition]:
    """Load every ``*.yaml``/``*.yml`` in ``directory`` (default: the shipped definitions).

    Returns definitions by key, in the standard instrument order (then other keys alphabetically).
    Problems of all files are gathered into one DefinitionError.
    """
    if directory is None:
        directory = default_directory()
    elif isinstance(directory, str):
        directory = Path(directory)
    if not directory.is_dir():
        raise DefinitionError([f"{directory}: not a directory of instrument definitions"])
    files = sorted(
        (f for f in directory.iterdir() if f.name.endswith((".yaml", ".yml")) and f.is_file()), key=lambda f: f.name
    )
    problems: list[str] = []
    loaded: dict[str, InstrumentDefinition] = {}
    for f in files:
        try:
            defn = load_file(f)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        if defn.key in loaded:
            problems.append(f"{f.name}: key: instrument '{defn.key}' is defined twice")
            continue
        loaded[defn.key] = defn
    if problems:
        raise DefinitionError(problems)
    return {k: loaded[k] for k in _ordered_keys(loaded)}


def _ordered_keys(keys: Iterable[str]) -> list[str]:
    keys = list(keys)
    known = [k for k in INSTRUMENT_ORDER if k in keys]
    return known + sorted(k for k in keys if k not in INSTRUMENT_ORDER)


# ---------------------------------------------------------------------------------------------------
# Writing


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write the definition files.
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_definition(defn: InstrumentDefinition) -> str:
    """The definition as YAML text, in file order; ``load_definition(dump_definition(d)) == d``."""
    return yaml.dump(
        defn.to_dict(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )


def _as_definitions(
    defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition],
) -> list[InstrumentDefinition]:
    items = list(defs.values()) if isinstance(defs, Mapping) else list(defs)
    by_key = {d.key: d for d in items}
    return [by_key[k] for k in _ordered_keys(by_key)]


def instrument_rows(defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition]) -> list[dict[str, Any]]:
    """One row per question of every instrument, for ``assessment instruments --format csv``.

    Keys are CSV_COLUMNS; instruments in the order grassroots, leader, peer, self, deputy, expert
    (then any others by key), questions in file order. ``weight`` is 1 rather than 1.0.
    """
    return [
        {
            "instrument": d.key,
            "question": q.id,
            "theme": q.theme,
            "type": q.type,
            "weight": _plain_number(q.weight),
            "text": q.text,
        }
        for d in _as_definitions(defs)
        for q in d.questions
    ]


def _neutralise(cell: Any) -> Any:
    # A cell starting with = + - @ would run as a formula when the CSV is opened in Excel.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell


def write_instruments_csv(
    defs: Mapping[str, InstrumentDefinition] | Iterable[InstrumentDefinition], stream: IO[str]
) -> None:
    """Write instrument_rows(defs) as CSV (header first) to a text stream."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in instrument_rows(defs):
        writer.writerow({k: _neutralise(v) for k, v in row.items()})
