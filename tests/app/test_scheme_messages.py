"""Scheme validation messages in Chinese (assessment.office.scheme_messages)."""

import re

import pytest

import scoring
from assessment.office.scheme_messages import field_zh, message_zh, messages_zh
from scoring.scheme import SchemeError
from scoring.scheme_loader import load_scheme

BAD = [
    ("weight: 25", "weight: -5"),
    ("weight: 10}", "weight: ten}"),
    ("m: 30", "m: -1"),
    ("method: one_each", "method: both"),
    ("grassroots: 5,", "grassroots: 5.5, foo: 2,"),
    ("bonus_cap: 3", "bonus_cap: 3\ncolour: red"),
    ("count_defaults: false", "count_defaults: 2"),
    ("id: expert,", "id: Expert,"),
    ("source: deputy,", "source: deputies,"),
    ("theme: burden,", "theme: cost,"),
    ("{general: 0.5,", "{general: 0.5, minor: 1,"),
    ("proportion: 0.1", "proportion: 0.7"),
    ("source: overdue}", "source: overdue, weight: 1}"),
    ("m_choices: [15, 30, 60]", "m_choices: [a]"),
    ("answer_points: {1: 0, 2: 25,", "answer_points: {1: 50, 2: 25,"),
    ("z: 1.96", "z: 0"),
]


def _errors(text):
    with pytest.raises(SchemeError) as info:
        load_scheme(text)
    return info.value


def test_every_message_has_a_chinese_wording():
    """Does every problem a bad scheme can raise come out in Chinese (no English text left)?"""
    text = scoring.default_scheme_text()
    for old, new in BAD:
        assert old in text, old
        text = text.replace(old, new, 1)
    error = _errors(text)
    assert len(error.messages) >= len(BAD)
    for en, zh in zip(error.messages, messages_zh(error.messages, error.data), strict=True):
        assert not re.search(r"\b(must|unknown|expected|required)\b", zh), (en, zh)


def test_messages_name_the_field_as_the_form_labels_it():
    """Does a leaf's message name it by number and name, and a setting by its Chinese label?"""
    text = scoring.default_scheme_text().replace("weight: 10}", "weight: ten}", 1)
    error = _errors(text)
    zh = messages_zh(error.messages, error.data)
    assert "第 2 项指标「专家评价」的权重必须是数字" in zh
    assert "各项指标的权重合计为 90，应为 100" in zh
    assert field_zh("min_n.peer") == "最低样本量（部门互评）"
    assert message_zh("not valid YAML: oops").startswith("方案不是有效的 YAML 格式")
    assert message_zh("something new: odd") == "something new: odd"  # unknown wording: kept, not lost
