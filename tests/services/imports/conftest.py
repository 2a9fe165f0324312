"""The small city every import test starts from."""

import pytest

from assessment.extensions import db
from assessment.models import Instrument, Question, Rater, RaterGroup, Town, Unit, UnitKind


@pytest.fixture
def city(ctx):
    """Three units, two towns, raters of four groups and three small instruments."""
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
        ("grassroots", "grassroots", "all_units", True, [("g01", "likert5"), ("g02", "score100")]),
        ("peer", "department", "other_units", True, [("p01", "likert5")]),
        ("self", "department", "own_unit", False, [("s01", "likert5")]),
    ]
    for key, group, targets, allow_na, questions in specs:
        instrument = Instrument(
            key=key,
            version=1,
            title=key,
            rater_group=group,
            targets=targets,
            definition=f"key: {key}\nallow_na: {str(allow_na).lower()}\n",
            fingerprint="x" * 64,
        )
        for position, (qid, qtype) in enumerate(questions):
            instrument.questions.append(Question(qid=qid, position=position, theme="t", type=qtype, text=qid))
        db.session.add(instrument)
    db.session.commit()
