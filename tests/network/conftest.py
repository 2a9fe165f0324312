"""The small supervision network of tests/network/helpers.py as a fixture."""

from datetime import date
from types import SimpleNamespace

import pytest

from assessment.extensions import db
from assessment.models import Participant, ParticipantKind, Period, PeriodState, Town, Unit, UnitKind


@pytest.fixture
def net(app, make_user):
    with app.app_context():
        t1, t2 = Town(code="T1", name="东城街道"), Town(code="T2", name="西湖镇")
        units = [
            Unit(code=f"U0{i}", name=name, kind=UnitKind.GOVERNMENT, category="政府部门")
            for i, name in ((1, "市民政局"), (2, "市自然资源局"), (3, "市市场监管局"))
        ]
        period = Period(
            name="2026",
            state=PeriodState.OPEN,
            as_of=date(2026, 12, 31),
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
        db.session.add_all([t1, t2, *units, period])
        db.session.flush()
        people = [
            Participant(code="I1", name="王信息", kind=ParticipantKind.INFORMANT, town_id=t1.id),
            Participant(code="I2", name="李信息", kind=ParticipantKind.INFORMANT, town_id=t2.id),
            Participant(code="K1", name="审计局", kind=ParticipantKind.LINKAGE, organisation="市审计局"),
            Participant(code="K2", name="信访局", kind=ParticipantKind.LINKAGE, organisation="市信访局"),
            Participant(code="E1", name="赵专家", kind=ParticipantKind.EXPERT),
        ]
        db.session.add_all(people)
        db.session.commit()
        ids = SimpleNamespace(
            period=period.id, units={u.code: u.id for u in units}, people={p.code: p.id for p in people}
        )
    make_user("office", role="operator")
    make_user("viewer", role="viewer")
    make_user("liaison1", role="unit_liaison", unit_code="U01")
    make_user("liaison2", role="unit_liaison", unit_code="U02")
    return ids
