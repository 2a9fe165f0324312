"""Signing in to the office console and what each page shows."""

import re

from assessment.extensions import db
from assessment.models import Rater, RaterGroup, Town, Unit, UnitKind


def test_console_needs_sign_in(client):
    """Does an anonymous visitor get sent to the login page?"""
    response = client.get("/office/")
    assert response.status_code == 302
    assert "/office/login" in response.headers["Location"]


def test_sign_in_and_out(client, auth, make_user):
    """Can an office user sign in and out of the console?"""
    make_user("office", role="operator")
    response = auth.login()
    assert response.status_code == 302
    page = client.get("/office/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "工作台" in text and "退出" in text
    auth.logout()
    assert client.get("/office/").status_code == 302


def test_wrong_password_is_refused_in_chinese(client, auth, make_user):
    """Is a wrong password refused with a Chinese message?"""
    make_user("office")
    response = auth.login(password="wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/office/").status_code == 302


def test_password_is_stored_hashed(app, make_user):
    """Is an office password stored only as a hash?"""
    password = make_user("office")
    with app.app_context():
        stored = db.session.execute(db.text("SELECT password_hash FROM users")).scalar_one()
    assert password not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_unit_liaison_cannot_open_the_console(app, client, auth, make_user):
    """Is a unit liaison kept out of the office's console pages?"""
    with app.app_context():
        db.session.add(Unit(code="U1", name="市医疗保障局", kind=UnitKind.GOVERNMENT, category="政府部门"))
        db.session.commit()
    make_user("liaison", role="unit_liaison", unit_code="U1")
    landing = client.get(auth.login("liaison").headers["Location"])
    assert landing.headers["Location"].endswith("/office/unit")  # issue 9: its own unit's page
    assert client.get("/office/units").status_code == 403
    assert client.get("/office/imports").status_code == 403


def test_viewer_cannot_import(client, auth, make_user):
    """Is a viewer refused the import page?"""
    make_user("reader", role="viewer")
    auth.login("reader")
    assert client.get("/office/units").status_code == 200
    assert client.get("/office/imports").status_code == 403


def test_pages_list_units_and_raters(app, client, auth, make_user):
    """Do the units and raters pages list what was imported?"""
    with app.app_context():
        town = Town(code="T01", name="密州街道")
        unit = Unit(
            code="U001",
            name="市行政审批服务局",
            kind=UnitKind.GOVERNMENT,
            category="政府部门",
            establishment=40,
            actual_staff=43,
        )
        db.session.add_all([town, unit])
        db.session.flush()
        db.session.add(Rater(code="G0001", name="王芳", group=RaterGroup.GRASSROOTS, town_id=town.id))
        db.session.commit()
    make_user("office")
    auth.login()
    units = client.get("/office/units").get_data(as_text=True)
    assert "市行政审批服务局" in units and "超编" in units
    raters = client.get("/office/raters?group=grassroots").get_data(as_text=True)
    assert "王芳" in raters and "密州街道" in raters
    assert client.get("/office/raters?group=nonsense").status_code == 400


def test_csrf_is_enforced_on_forms(app, make_user):
    """With CSRF on (as in production), is a login post without the token refused?"""
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("office")
    client = app.test_client()
    response = client.post("/office/login", data={"username": "office", "password": "correct-horse-1"})
    assert response.status_code == 400
    page = client.get("/office/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/office/login", data={"username": "office", "password": "correct-horse-1", "csrf_token": token}
    )
    assert response.status_code == 302


def test_health(client):
    """Does the health endpoint answer ok when the database answers?"""
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_api_errors_are_json(client):
    """Do API errors come back in the one JSON error shape?"""
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_bad_upload_leaves_no_period_behind(app, client, auth, make_user):
    """Does a refused console import answer 422 with the bad rows and keep neither rows nor the new period?"""
    import io

    import sqlalchemy as sa

    from assessment.models import Period

    make_user("office", role="operator")
    auth.login()
    body = b"code,name,kind,category\nU1,a,party,c\nU2,,party,c\n"
    response = client.post(
        "/office/imports",
        data={
            "kind": "units",
            "period": "2031",
            "code_system": "standard",
            "file": (io.BytesIO(body), "units.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未写入任何数据" in page and "不能为空" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Period)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0


def test_case_rates_round_as_every_other_share():
    """Does the 好差评 ratio round its share 四舍五入 like |pct (1/400 is 0.3%, not the binary float's 0.2%)?"""
    from assessment.templating import ratio

    assert ratio((1, 400)) == "1 / 400（0.3%）"
    assert ratio((3, 0)) == "3 / 0（—）"


def test_shares_and_sizes_shown_are_rounded_half_up():
    """Are rates, file sizes and the scheme's shares shown 四舍五入 (62.5% -> 63%), not half to even?"""
    from assessment.templating import kilobytes, pct, setting_pct

    assert pct(0.625, 0) == "63%" and pct(0.0625, 1) == "6.3%" and pct(None, 0) == "—"
    assert kilobytes(2304) == "2.3" and kilobytes(None) == "—"
    assert setting_pct(0.15) == "15%" and setting_pct(0.125) == "12.5%" and setting_pct(0.80005) == "80.01%"


def test_every_status_has_its_badge_colour():
    """Does every suggestion status, problem state and case state have a badge colour, closed ones green?"""
    from assessment.models import CaseState, ProblemState, SuggestionStatus
    from assessment.templating import state_badge, suggestion_badge

    assert {s: suggestion_badge(s) for s in SuggestionStatus} == {
        SuggestionStatus.PENDING: "open",
        SuggestionStatus.VALID: "published",
        SuggestionStatus.INVALID: "closed",
    }
    for states in (ProblemState, CaseState):
        assert {state_badge(s) for s in states if s.value != "closed"} == {"open"}
        assert state_badge(states("closed")) == "published"
