"""The scheme editor's form (评分方案): which settings the Chinese form shows, how a posted form changes the
scheme mapping, and what changed between two versions — the route in office/results.py stays thin.

Input names are the settings' paths in the scheme (``min_n.grassroots``, ``leaves[3].weight``), so a validation
message (``scoring.SchemeError``, path first) lands beside the field it names.
"""

import difflib
import re

import yaml
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from scoring.scheme import DEDUCTION_SOURCES

from ..labels import INSTRUMENT_ZH, LEAF_SOURCE_ZH, SEVERITY_ZH
from .scheme_messages import CHOICE_ZH, field_zh

#: (path, kind, choices) of the settings besides the leaves, in the order the form shows them, by section.
SECTIONS = [
    (
        "最低样本量（评价人数少于此数时该项不出分、不单独显示）",
        [(f"min_n.{key}", "int", None) for key in INSTRUMENT_ZH],
    ),
    (
        "去极值（去掉一个最高分、一个最低分）",
        [
            ("trimming.method", "choice", ("one_each", "proportion", "none")),
            ("trimming.from_n", "int", None),
            ("trimming.proportion", "number", None),
        ],
    ),
    (
        "群众评服务（好差评）",
        [
            ("public.method", "choice", ("bayes", "wilson")),
            ("public.m", "number", None),
            ("public.count_defaults", "flag", None),
        ],
    ),
    (
        "扣分与加分",
        [
            *[(f"deduction.points.{s}", "number", None) for s in SEVERITY_ZH],
            ("deduction.cap", "number", None),
            ("bonus_cap", "number", None),
        ],
    ),
    (
        "等次",
        [
            ("grades.excellent_share", "number", None),
            ("grades.poor_share", "number", None),
            ("grades.poor_below", "number", None),
            ("grades.good_from", "number", None),
        ],
    ),
    ("选项", [("rater_effect", "flag", None), ("coverage_min", "number", None)]),
]
_INDEX = re.compile(r"\[(\d+)\]")


class SchemeEditForm(FlaskForm):
    """The form's fixed part (CSRF and the note); the settings are read by path from the posted form."""

    note = StringField("修改说明", validators=[Length(max=500)])


def _get(data, path):
    node = data
    for part in _parts(path):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _parts(path):
    parts = []
    for piece in path.split("."):
        name, *indexes = _INDEX.split(piece)
        parts.append(int(name) if name.isdigit() else name)
        parts.extend(int(i) for i in indexes if i)
    return [p for p in parts if p != ""]


def _set(data, path, value):
    parts = _parts(path)
    node = data
    for part in parts[:-1]:
        if isinstance(part, int):
            node = node[part]
        else:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
    node[parts[-1]] = value


def _value(text, kind):
    """A posted setting as the scheme holds it: a number when it reads as one, else the text as typed (so the
    scheme's own check names it: "must be a number"); None for an empty field."""
    text = (text or "").strip()
    if text == "":
        return None
    if kind == "choice":
        return text
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def form_fields(data):
    """What the form shows: the leaf tree [(level1, [(level2, [(index, leaf mapping, source in Chinese, whether
    it is a deduction leaf: no weight)])])] and the sections
    [(title, [{path, label, kind, choices, value}])], with values from the scheme mapping `data`."""
    tree = []
    for i, leaf in enumerate(data.get("leaves") or []):
        if not isinstance(leaf, dict):
            continue
        level1, level2 = leaf.get("level1") or "", leaf.get("level2") or ""
        if not tree or tree[-1][0] != level1:
            tree.append((level1, []))
        groups = tree[-1][1]
        if not groups or groups[-1][0] != level2:
            groups.append((level2, []))
        source = leaf.get("source")
        groups[-1][1].append((i, leaf, LEAF_SOURCE_ZH.get(source, source), source in DEDUCTION_SOURCES))
    defaults = yaml.safe_load(_default_text())
    sections = []
    for title, fields in SECTIONS:
        rows = []
        for path, kind, choices in fields:
            value = _get(data, path)
            if value is None:
                value = _get(defaults, path)
            rows.append(
                {
                    "path": path,
                    "label": field_zh(path),
                    "kind": kind,
                    "value": value,
                    "choices": [(c, CHOICE_ZH.get(c, c)) for c in choices or ()],
                }
            )
        sections.append((title, rows))
    return tree, sections


def _default_text():
    import scoring

    return scoring.default_scheme_text()


def apply_form(data, posted):
    """A copy of the scheme mapping `data` with the posted settings written in (weights, minimum samples,
    trimming, m, options); settings the form does not show are kept as they were."""
    data = yaml.safe_load(yaml.safe_dump(data, allow_unicode=True))  # a deep copy
    for i, leaf in enumerate(data.get("leaves") or []):
        key = f"leaves[{i}].weight"
        if isinstance(leaf, dict) and "weight" in leaf and key in posted:
            leaf["weight"] = _value(posted.get(key), "number")
    for _title, fields in SECTIONS:
        for path, kind, _choices in fields:
            if kind == "flag":
                _set(data, path, posted.get(path) == "on")
            elif path in posted:
                value = _value(posted.get(path), kind)
                if value is not None or _get(data, path) is not None:
                    _set(data, path, value)
    return data


def dump(data):
    """The scheme mapping as YAML text (Chinese kept readable; comments of a hand-written file are not kept)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def _flatten(data, prefix=""):
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and prefix == "leaves":
        out = {}
        for i, leaf in enumerate(data):
            out.update(_flatten(leaf, f"leaves[{i}]"))
        return out
    return {prefix: data}


def changes(old_text, new_text):
    """What changed from one scheme version to the next: [(field in Chinese, before, after)] by setting, and
    the line diff of the YAML texts [(line, "add" / "del" / "")] (for what the table cannot say, e.g. an added
    leaf)."""
    try:
        old, new = yaml.safe_load(old_text) or {}, yaml.safe_load(new_text) or {}
    except yaml.YAMLError:
        old, new = {}, {}
    before, after = _flatten(old), _flatten(new)
    rows = [
        (
            field_zh(path, new if path in after else old) if field_zh(path, new) != path else path,
            before.get(path),
            after.get(path),
        )
        for path in list(dict.fromkeys([*before, *after]))
        if before.get(path) != after.get(path)
    ]
    lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), "上一版", "本版", lineterm="", n=1)
    return rows, [(line, _diff_class(line)) for line in lines]


def _diff_class(line: str) -> str:
    """How a line of the YAML diff is shown: "add" (only in the new version), "del" (only in the old), or ""."""
    if line.startswith(("+++", "---")):
        return ""
    return {"+": "add", "-": "del"}.get(line[:1], "")
