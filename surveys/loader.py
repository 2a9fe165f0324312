"""Loading questionnaire (问卷) definitions: read, validate, and list the shipped ones.

A definition is a YAML file under ``surveys/definitions/`` (one per instrument, named after its key).
Loading validates everything and reports every problem at once, each naming the file and the path of
the bad value, e.g. ``grassroots.yaml: questions[3].type: unknown type 'likert7' (expected likert5,
score100)``, so the office can fix a file in one pass. Unknown keys are errors: a typo such as
``wieght`` would otherwise be silently ignored.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .answers import ANSWER_TYPES
from .definition import (
    _ID_RE,
    _ID_RULE,
    _QUESTION_KEYS,
    _SCALE_KEYS,
    _TOP_KEYS,
    DEFAULT_NA_LABEL,
    GRASSROOTS_THEMES,
    INSTRUMENT_ORDER,
    KNOWN_INSTRUMENTS,
    RATER_GROUPS,
    TARGETS,
    DefinitionError,
    InstrumentDefinition,
    Question,
    Scale,
)

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
