"""A unit liaison on a phone: report a check point done with an evidence file (CSRF on), then the office sees it."""

import os
from datetime import date

from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointStatus, Period, Unit
from tests.office.unit_city import PW, make_city

SHOTS = os.environ.get("ASSESSMENT_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _sign_in(page, base, user):
    page.goto(f"{base}/office/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")


def test_liaison_reports_a_check_point_with_evidence_from_a_phone(app, live_server, page, make_user, tmp_path):
    """Can a liaison on a 390 px screen report an item done with a file, get a named error for a bad file first,
    and does the office then see the item completed with its evidence?"""
    app.config["WTF_CSRF_ENABLED"] = True
    make_city(app, make_user)
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        u1 = db.session.execute(db.select(Unit).filter_by(code="U01")).scalar_one()
        for item, due, status in [
            ("婚姻登记窗口标准化建设", date(2026, 1, 31), "pending"),
            ("养老机构安全隐患排查整治", date(2026, 2, 28), "on_time"),
            ("社会救助资金发放“一卡通”", date(2026, 9, 30), "pending"),
        ]:
            db.session.add(
                CheckPoint(period_id=period.id, unit_id=u1.id, item=item, due=due, status=CheckPointStatus(status))
            )
        db.session.commit()

    _sign_in(page, live_server, "li1")
    page.wait_for_url(f"{live_server}/office/unit")
    assert "市民政局" in page.locator("h1").inner_text()
    _shot(page, "liaison-home-390")

    page.click("text=婚姻登记窗口标准化建设")
    bad = tmp_path / "照片.exe"
    bad.write_bytes(b"MZ\x90\x00not a photo")
    page.fill("input[name=done_on]", "2026-02-03")
    page.fill("textarea[name=evidence]", "已完成窗口改造，并通过市局验收。")
    page.set_input_files("input[name=files]", str(bad))
    page.click("main form button[type=submit]")
    assert "佐证材料：不接受此类型的文件" in page.locator(".flash.error").inner_text()
    assert page.locator("textarea[name=evidence]").input_value() == "已完成窗口改造，并通过市局验收。"
    _shot(page, "checkpoint-bad-file-390")

    good = tmp_path / "验收报告.pdf"
    good.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.fill("input[name=done_on]", "2026-02-03")
    page.set_input_files("input[name=files]", str(good))
    page.click("main form button[type=submit]")
    assert "已报送：逾期完成" in page.locator(".flash.success").inner_text()
    assert page.locator("a", has_text="验收报告.pdf").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    _shot(page, "checkpoint-reported-390")

    page.click("header button[type=submit]")  # sign out
    _sign_in(page, live_server, "op")
    page.goto(f"{live_server}/office/checkpoints?period=2026")
    assert page.locator("svg").count() >= 1
    row = page.locator("tr", has_text="市民政局")
    assert "2" in row.inner_text()
    _shot(page, "checkpoints-office-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/office/checkpoints?period=2026&unit=U01")
    assert page.locator("tr", has_text="婚姻登记窗口标准化建设").locator(".badge").first.inner_text() == "逾期完成"
    _shot(page, "checkpoints-unit-desktop")
