"""Scheme validation messages in Chinese, naming the field: the one place that translates them.

``load_scheme`` writes each problem in English as ``path: what is wrong`` (the command line prints those, and
tests pin them); the console shows the same problem in Chinese, with the path turned into the field's name as
the scheme editor labels it (``leaves[3].weight`` → 第 4 项指标「专家评价」的权重). Translating for the console is
presentation, so it lives here beside the scheme editor, not in the engine; the instrument and severity words
are the app's labels.
"""

from __future__ import annotations

import re

from ..labels import INSTRUMENT_ZH, SEVERITY_ZH

#: Field names as the scheme editor labels them.
FIELD_ZH = {
    "": "方案",
    "version": "方案版本号",
    "name": "方案名称",
    "themes": "镇街评议主题",
    "answer_points": "答案分值表",
    "min_n": "最低样本量",
    "trimming": "去极值设置",
    "trimming.method": "去极值方式",
    "trimming.from_n": "去极值起始人数",
    "trimming.proportion": "按比例去极值的比例",
    "rater_effect": "评价人效应校正",
    "public": "群众评服务设置",
    "public.method": "群众评服务计分方法",
    "public.m": "群众评服务平滑参数 m",
    "public.z": "Wilson 置信参数 z",
    "public.count_defaults": "是否计入默认好评",
    "public.level_points": "好差评各等级分值",
    "deduction": "扣分设置",
    "deduction.points": "问题扣分分值",
    "deduction.cap": "扣分上限",
    "bonus_cap": "加分上限",
    "coverage_min": "最低指标覆盖率",
    "grades": "等次设置",
    "grades.excellent_share": "优秀比例",
    "grades.poor_share": "较差比例",
    "grades.poor_below": "较差分数线",
    "grades.good_from": "良好分数线",
    "assessment_share": "综合考核分值占比",
    "reduction_share": "建议核减编制比例",
    "straight_line_min": "认定直线作答的最少答题数",
    "sensitivity": "敏感性分析设置",
    "sensitivity.draws": "敏感性分析抽样次数",
    "sensitivity.seed": "敏感性分析随机种子",
    "sensitivity.weight_spread": "权重浮动幅度",
    "sensitivity.trim_probability": "去极值开关概率",
    "sensitivity.m_choices": "m 的候选取值",
    "sensitivity.review_below": "需人工复核的等次保持率",
    "leaves": "指标列表",
}
LEAF_FIELD_ZH = {
    "id": "编号",
    "name": "名称",
    "level1": "一级指标",
    "level2": "二级指标",
    "source": "数据来源",
    "weight": "权重",
    "theme": "主题",
    "rank_step": "名次步长",
}
CHOICE_ZH = {
    "one_each": "去掉一个最高分和一个最低分",
    "proportion": "按比例去掉最高和最低",
    "none": "不去极值",
    "bayes": "贝叶斯平均",
    "wilson": "Wilson 下限",
}

_LEAF_PATH = re.compile(r"^leaves\[(\d+)\](?:\.(\w+))?$")


def field_zh(path: str, data: dict | None = None) -> str:
    """The Chinese name of the field at `path` (e.g. ``min_n.grassroots`` → 最低样本量（镇街评议）)."""
    if path in FIELD_ZH:
        return FIELD_ZH[path]
    match = _LEAF_PATH.match(path)
    if match:
        i, key = int(match.group(1)), match.group(2)
        leaves = (data or {}).get("leaves")
        item = leaves[i] if isinstance(leaves, list) and i < len(leaves) else None
        name = item.get("name") or item.get("id") if isinstance(item, dict) else None
        leaf = f"第 {i + 1} 项指标" + (f"「{name}」" if name else "")
        return leaf if key is None else f"{leaf}的{LEAF_FIELD_ZH.get(key, key)}"
    head, _, key = path.rpartition(".")
    if head == "min_n":
        return f"最低样本量（{INSTRUMENT_ZH.get(key, key)}）"
    if head == "deduction.points":
        return f"扣分分值（{SEVERITY_ZH.get(key, key)}）"
    if head in ("answer_points", "public.level_points"):
        return f"{FIELD_ZH[head]}（{key} 档）"
    return path


def _choices(text: str) -> str:
    return "、".join(f"{CHOICE_ZH[c]}（{c}）" if c in CHOICE_ZH else c for c in text.split(", "))


#: (pattern on the English text after "path: ", Chinese template); {f} is the field's name, {1} {2} the groups.
RULES = [
    (r"is required", "{f}不能为空"),
    (r"must be a number", "{f}必须是数字"),
    (r"must be a whole number", "{f}必须是整数"),
    (r"must not be negative|must be >= 0", "{f}不能为负数"),
    (r"must be >= (\S+)", "{f}不能小于 {1}"),
    (r"must be <= (\S+)", "{f}不能大于 {1}"),
    (r"must be < (\S+)", "{f}必须小于 {1}"),
    (r"must be > (\S+)", "{f}必须大于 {1}"),
    (r"must be at least (\d+) \(anonymity.*", "{f}不能低于 {1}（为保护匿名，人数更少的评价结果不单独显示）"),
    (r"must be text", "{f}必须是文字"),
    (r"must be true or false", "{f}只能是 true（是）或 false（否）"),
    (r"must be a mapping", "{f}的格式不对，应为“名称: 值”的设置表"),
    (r"must give points for exactly (.*)", "{f}必须恰好给出 {1} 各档的分值"),
    (r"points must not decrease as the answer rises", "{f}：答案越满意，分值不能越低"),
    (r"unknown value '(.*)' \(expected (.*)\)", "{f}的取值“{1}”无效，可选：{choices}"),
    (r"unknown key '(.*)' \(expected .*\)", "{f}中有无法识别的设置项“{1}”（请检查拼写）"),
    (r"must be a list of lower-case ids", "{f}必须是小写英文编号的列表"),
    (r"must not repeat a theme", "{f}中有重复的主题"),
    (r"unknown instrument '(.*)' \(expected .*\)", "{f}中有未知的问卷“{1}”"),
    (
        r"unknown severity '(.*)' \(expected .*\)",
        ("{f}中有未知的严重程度“{1}”（应为 general 一般 / serious 较重 / grave 严重）"),
    ),
    (r"must be a list of numbers >= 0", "{f}必须是不小于 0 的数字列表"),
    (r"must be a non-empty list", "{f}不能为空，至少要有一项指标"),
    (r"'(.*)' must be lower-case letters, digits and _", "{f}“{1}”只能由小写英文字母、数字和下划线组成"),
    (r"duplicate id '(.*)'", "{f}“{1}”与前面的指标重复"),
    (r"unknown leaf source '(.*)' \(expected .*\)", "{f}“{1}”无效"),
    (r"'(.*)' may appear only once", "{f}：扣分项“{1}”只能出现一次"),
    (r"a deduction leaf takes no weight", "{f}：扣分项不设权重，请删去权重"),
    (r"only questionnaire leaves have a theme", "{f}：只有问卷类指标才能设置主题"),
    (r"unknown theme '(.*)' \(expected (.*)\)", "{f}“{1}”不在方案的主题列表（{2}）中"),
    (r"a deduction leaf cannot be rank-stepped", "{f}：扣分项不能按名次计分"),
]
#: Whole messages without a path.
WHOLE = [
    (r"positive weights add up to (\S+), expected 100", "各项指标的权重合计为 {1}，应为 100"),
    (r"not valid YAML: (.*)", "方案不是有效的 YAML 格式：{1}"),
    (r"the scheme must be a YAML mapping", "方案格式不对：最外层应为“名称: 值”的设置表"),
    (r"unknown key '(.*)' \(expected .*\)", "方案中有无法识别的设置项“{1}”（请检查拼写）"),
]


def _fill(template: str, match: re.Match, **names: str) -> str:
    """`template` with {1}, {2} … the match's groups and {name} the given names (no regex escapes, so a leaf
    name with a backslash stays as written)."""
    for i, group in enumerate(match.groups(), start=1):
        template = template.replace(f"{{{i}}}", group or "")
    for name, value in names.items():
        template = template.replace(f"{{{name}}}", value)
    return template


def message_zh(message: str, data: dict | None = None) -> str:
    """One English scheme message in Chinese, naming the field; the English text itself if no rule fits."""
    for pattern, template in WHOLE:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match:
            return _fill(template, match)
    path, sep, text = message.partition(": ")
    if sep:
        for pattern, template in RULES:
            match = re.fullmatch(pattern, text, flags=re.DOTALL)
            if match:
                choices = _choices(match.group(2)) if "{choices}" in template else ""
                return _fill(template, match, f=field_zh(path, data), choices=choices)
    return message


def messages_zh(messages: list[str], data: dict | None = None) -> list[str]:
    """Every message of a SchemeError in Chinese (see ``message_zh``)."""
    return [message_zh(m, data) for m in messages]
