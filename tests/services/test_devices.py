"""The device registry: keys shown once and stored as hashes, rotation, disabling, the CLI and the console page."""

import hashlib

import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import AuditEntry, Device, Unit, UnitKind
from assessment.services.ratings import devices


@pytest.fixture
def unit(app):
    with app.app_context():
        db.session.add(Unit(code="U01", name="市行政审批服务局", kind=UnitKind.GOVERNMENT, category="政府部门"))
        db.session.commit()
    return "U01"


def test_a_key_is_256_bit_random_and_only_its_hash_is_stored(app, ctx, unit):
    """Is the key long and random, and does the database keep only its prefix and sha256?"""
    device, key = devices.register_device("U01", "1号窗口", actor="test", location="大厅")
    other, key2 = devices.register_device("U01", "2号窗口", actor="test")
    db.session.commit()
    assert len(key) == devices.KEY_LEN and len(key) - devices.KEY_PREFIX_LEN == 64 and key != key2
    assert device.key_prefix == key[: devices.KEY_PREFIX_LEN]
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()
    dumped = [str(tuple(row)) for row in db.session.execute(sa.text("SELECT * FROM devices"))]
    dumped += [str(e.detail) for e in db.session.execute(sa.select(AuditEntry)).scalars()]
    assert not any(key in text or key[devices.KEY_PREFIX_LEN :] in text for text in dumped)
    assert devices.authenticate(f"Bearer {key}").id == device.id


def test_a_window_device_needs_a_unit_and_a_window(ctx, unit):
    """Are incomplete registrations refused, while an integration key may name no unit?"""
    with pytest.raises(devices.DeviceError, match="needs a unit"):
        devices.register_device(None, "1号窗口", actor="test")
    with pytest.raises(devices.DeviceError, match="window name"):
        devices.register_device("U01", "  ", actor="test")
    with pytest.raises(devices.DeviceError, match="does not exist"):
        devices.register_device("U99", "1号窗口", actor="test")
    device, _ = devices.register_device(
        None, None, actor="test", integration=True, channel="hotline", code_system="gbt39046"
    )
    assert device.unit_id is None and device.channel.value == "hotline" and device.code_system.value == "gbt39046"


def test_rotating_and_disabling_keys(ctx, unit):
    """Does a rotated key replace the old one at once, and a disabled device get refused? Both audited?"""
    device, old = devices.register_device("U01", "1号窗口", actor="test")
    _, new = devices.rotate_key(device.id, actor="test")
    db.session.commit()
    with pytest.raises(devices.AuthError) as refused:
        devices.authenticate(f"Bearer {old}")
    assert refused.value.code == "invalid_key"
    assert devices.authenticate(f"Bearer {new}").id == device.id
    devices.set_enabled(device.id, False, actor="test")
    db.session.commit()
    with pytest.raises(devices.AuthError) as refused:
        devices.authenticate(f"bearer {new}")
    assert refused.value.code == "disabled_key"
    actions = db.session.execute(sa.select(AuditEntry.action).where(AuditEntry.object_type == "device")).scalars()
    assert list(actions) == ["device.register", "device.rotate_key", "device.disable"]


def test_cli_device_add_prints_the_key_once(app, runner, unit):
    """Does `assessment device-add UNIT --window NAME` print a working key that is stored only as a hash?"""
    result = runner.invoke(args=["device-add", "U01", "--window", "3号窗口", "--location", "市民服务中心2楼"])
    assert result.exit_code == 0, result.output
    key = next(line.strip() for line in result.output.splitlines() if line.strip().startswith("dk"))
    with app.app_context():
        device = db.session.execute(sa.select(Device)).scalar_one()
        assert device.key_hash == hashlib.sha256(key.encode()).hexdigest() and device.window == "3号窗口"
        assert devices.authenticate(f"Bearer {key}").unit_code == "U01"
    listing = runner.invoke(args=["device-list"])
    assert listing.exit_code == 0 and "3号窗口" in listing.output and key not in listing.output


def test_cli_integration_keys_and_errors(app, runner, unit):
    """May an integration key be added without a unit, and is a bad unit a clear error?"""
    result = runner.invoke(args=["device-add", "--integration", "--channel", "hotline", "--code-system", "gbt39046"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["device-add", "U77", "--window", "1号窗口"])
    assert result.exit_code != 0 and "unit 'U77' does not exist" in result.output
    result = runner.invoke(args=["device-add", "U01"])
    assert result.exit_code != 0 and "window" in result.output
    with app.app_context():
        (device,) = db.session.execute(sa.select(Device)).scalars().all()
        assert device.is_integration and device.channel.value == "hotline"
        device_id = device.id
    assert runner.invoke(args=["device-disable", str(device_id)]).exit_code == 0
    rotated = runner.invoke(args=["device-rotate", str(device_id)])
    assert rotated.exit_code == 0 and "new key" in rotated.output
    assert runner.invoke(args=["device-enable", str(device_id)]).exit_code == 0
    assert runner.invoke(args=["device-disable", "999"]).exit_code != 0


def test_console_registers_a_device_and_shows_the_key_once(app, client, auth, make_user, unit):
    """Does the console show the key once (not cached), then list the device without it?"""
    make_user("office", role="operator")
    auth.login()
    response = client.post(
        "/office/devices",
        data={"kind": "device", "unit_code": "U01", "window": "5号窗口", "location": "二楼", "code_system": "standard"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "只显示这一次" in page
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        device = db.session.execute(sa.select(Device)).scalar_one()
        prefix = device.key_prefix
    key = page.split('<p class="key">')[1].split("</p>")[0].strip()
    assert key.startswith(prefix) and len(key) == devices.KEY_LEN
    listing = client.get("/office/devices").get_data(as_text=True)
    assert "5号窗口" in listing and key not in listing and "从未" in listing
    rotated = client.post(f"/office/devices/{device.id}/rotate").get_data(as_text=True)
    assert "旧密钥已失效" in rotated and key not in rotated
    client.post(f"/office/devices/{device.id}/enabled", data={"enabled": "0"})
    with app.app_context():
        assert not db.session.get(Device, device.id).enabled
    bad = client.post("/office/devices", data={"kind": "device", "unit_code": "U01", "window": ""})
    assert bad.status_code == 400 and "评价器必须填写窗口名称" in bad.get_data(as_text=True)


def test_viewers_see_devices_but_cannot_register(client, auth, make_user, unit):
    """Can a viewer read the registry but not add or change devices?"""
    make_user("viewer", role="viewer")
    auth.login("viewer")
    assert client.get("/office/devices").status_code == 200
    assert client.post("/office/devices", data={"unit_code": "U01", "window": "1"}).status_code == 403
