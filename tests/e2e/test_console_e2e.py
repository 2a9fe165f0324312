"""The console as a person uses it, in a real browser, with CSRF on."""

import os

SHOTS = os.environ.get("ASSESSMENT_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_sign_in_import_and_see_units(app, live_server, page, make_user, tmp_path):
    """Can an operator sign in on a phone, import a units file with a bad row, fix it, and see the units?"""
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("office", role="operator")
    page.goto(f"{live_server}/office/")
    assert "登录" in page.title()
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/office/")
    assert page.locator("h1").inner_text() == "工作台"
    _shot(page, "console-index")

    bad = tmp_path / "units.csv"
    bad.write_text(
        "code,name,kind,category,establishment\n"
        "U001,市行政审批服务局,government,政府部门,40\n"
        "U002,市委组织部,parti,党群部门,25\n",
        encoding="utf-8-sig",
    )
    page.goto(f"{live_server}/office/imports")
    page.select_option("select[name=kind]", "units")
    page.fill("input[name=period]", "2026")
    page.set_input_files("input[name=file]", str(bad))
    page.click("main button[type=submit]")
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    assert "3" in errors.first.inner_text() and "kind" in errors.first.inner_text()
    assert "未写入任何数据" in page.content()
    _shot(page, "import-errors")

    good = tmp_path / "units-fixed.csv"
    good.write_text(bad.read_text(encoding="utf-8-sig").replace("parti", "party"), encoding="utf-8")
    page.set_input_files("input[name=file]", str(good))
    page.fill("input[name=period]", "2026")
    page.click("main button[type=submit]")
    assert page.locator(".flash.success").count() == 1

    page.goto(f"{live_server}/office/units")
    body = page.locator("table").inner_text()
    assert "市行政审批服务局" in body and "市委组织部" in body
    _shot(page, "units")
