"""The small city every import test starts from."""

import itertools

import pytest

from assessment.extensions import db
from assessment.models import Rater, RaterGroup, Town, Unit, UnitKind
from assessment.services.instruments import sync_instruments
from surveys import load_definition

#: Grassroots questionnaires have exactly the four grassroots themes (scoring.md); the others any.
THEMES = {
    "grassroots": {"territorial": "属地管理", "response": "响应速度", "burden": "基层负担", "support": "支持指导"},
    "peer": {"t": "主题"},
    "self": {"t": "主题"},
}


@pytest.fixture
def city(ctx):
    """Three units, two towns, raters of four groups and three small instruments (stored as the app stores
    definitions: through the surveys loader and sync_instruments)."""
    units = [
        Unit(code="U01", name="市发展和改革局", kind=UnitKind.GOVERNMENT, category="政府部门"),
        Unit(code="U02", name="市委组织部", kind=UnitKind.PARTY, category="党委部门"),
        Unit(code="U03", name="市检验检测中心", kind=UnitKind.INSTITUTION, category="事业单位"),
    ]
    towns = [Town(code="T01", name="密州街道"), Town(code="T02", name="龙都街道")]
    db.session.add_all(units + towns)
    db.session.flush()
    db.session.add_all(
        [
            Rater(code="G1", name="张三", group=RaterGroup.GRASSROOTS, town_id=towns[0].id),
            Rater(code="D1", name="李四", group=RaterGroup.DEPARTMENT, unit_id=units[0].id),
            Rater(code="L1", name="王五", group=RaterGroup.LEADER),
        ]
    )
    specs = [
        (
            "grassroots",
            "grassroots",
            "all_units",
            True,
            [("g01", "likert5"), ("g02", "score100"), ("g03", "likert5"), ("g04", "likert5")],
        ),
        ("peer", "department", "other_units", True, [("p01", "likert5")]),
        ("self", "department", "own_unit", False, [("s01", "likert5")]),
    ]
    definitions = {}
    for key, group, targets, allow_na, questions in specs:
        definitions[key] = load_definition(
            {
                "key": key,
                "version": 1,
                "title": key,
                "intro": "请如实评价。",
                "rater_group": group,
                "targets": targets,
                "allow_na": allow_na,
                "themes": THEMES[key],
                "scales": {
                    "likert5": {"labels": {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}},
                    "score100": {"min": 0, "max": 100},
                },
                "questions": [
                    {"id": qid, "theme": theme, "type": qtype, "weight": 1, "text": qid}
                    for (qid, qtype), theme in zip(questions, itertools.cycle(THEMES[key]))
                ],
            },
            source=f"{key}.yaml",
            expected_key=key,
        )
    sync_instruments(definitions)
    db.session.commit()
