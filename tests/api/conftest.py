"""Fixtures for the device API: a small city with an open period, devices with keys, and a poster."""

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from assessment.extensions import db
from assessment.models import Period, PeriodState, Unit, UnitKind
from tests.api.helpers import CST


@pytest.fixture
def city(app):
    """Two units and an open period around today (created directly, so the dates do not depend on the year)."""
    today = datetime.now(CST).date()
    with app.app_context():
        db.session.add_all(
            [
                Unit(code="U01", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门"),
                Unit(code="U02", name="市医疗保障局", kind=UnitKind.GOVERNMENT, category="政府部门"),
                Unit(code="U09", name="已撤销单位", kind=UnitKind.GOVERNMENT, category="政府部门", active=False),
                Period(
                    name="P1",
                    starts_on=today - timedelta(days=300),
                    ends_on=today + timedelta(days=60),
                    as_of=today + timedelta(days=60),
                    state=PeriodState.OPEN,
                ),
                Period(
                    name="P0",
                    starts_on=today - timedelta(days=700),
                    ends_on=today - timedelta(days=301),
                    as_of=today - timedelta(days=301),
                    state=PeriodState.CLOSED,
                ),
            ]
        )
        db.session.commit()
    return SimpleNamespace(today=today)


@pytest.fixture
def make_device(app, city):
    """Register a device: make_device("U01", window="1号窗口", integration=False, ...) -> (device id, key)."""

    def _make(unit_code="U01", window="1号窗口", **options):
        from assessment.services.ratings.devices import register_device

        with app.app_context():
            device, key = register_device(unit_code, window, actor="test", **options)
            db.session.commit()
            return device.id, key

    return _make


@pytest.fixture
def post(client):
    """POST a body to /api/v1/ratings with a key; a dict or list is sent as JSON, bytes/str as they are."""

    def _post(key, body, headers=None):
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
        return client.post("/api/v1/ratings", data=data, headers=sent)

    return _post
