"""Fixtures for the surveys package tests (no app, no database)."""

import copy
import sys
from pathlib import Path

import pytest

# Lets `pytest tests/surveys` import the top-level `surveys` package before the project's pytest
# settings put the repository root on sys.path.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

MINIMAL = {
    "key": "leader",
    "version": 1,
    "title": "市级领导评价市直部门履职情况问卷",
    "rater_group": "leader",
    "targets": "all_units",
    "intro": "评价不记名，结果只以汇总形式呈现。",
    "allow_na": True,
    "na_label": "不了解",
    "themes": {"duty": "履职尽责", "integrity": "作风建设"},
    "scales": {
        "likert5": {"labels": {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}},
        "score100": {"min": 0, "max": 100},
    },
    "questions": [
        {"id": "l01", "theme": "duty", "type": "likert5", "weight": 1, "text": "该单位重点工作推进到位"},
        {"id": "l02", "theme": "duty", "type": "score100", "weight": 2, "text": "请对该单位总体打分"},
        {"id": "l03", "theme": "integrity", "type": "likert5", "text": "该单位作风扎实", "help": "说明"},
        {"id": "l04", "theme": "integrity", "type": "likert5", "weight": 1.5, "text": "该单位遵规守纪"},
    ],
}


@pytest.fixture
def minimal():
    """A fresh copy of a small valid definition (a mapping), for tests to break one thing in."""
    return copy.deepcopy(MINIMAL)
