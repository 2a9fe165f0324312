"""The period's whole life in the console: new period, rules, 生成任务, open, close, publish (with the gate)."""

import re

import pytest

from assessment.extensions import db
from assessment.models import Assignment, AssignmentRule, AuditEntry, Period, PeriodState, Unit


def _state(app, name="2026"):
    with app.app_context():
        return db.session.execute(db.select(Period.state).filter_by(name=name)).scalar_one()


def _flash(page):
    return " ".join(re.findall(r'<div class="flash [a-z]+"[^>]*>(.*?)</div>', page))


@pytest.mark.parametrize("role", ["viewer", "operator", "data_admin", "admin"])
def test_every_office_role_sees_the_pages(city, login_as, role):
    """Can every office role open the periods list, the period page, invitations and progress?"""
    client = login_as(role)
    for url in (
        "/office/surveys",
        "/office/surveys/2026",
        "/office/surveys/2026/invitations",
        "/office/surveys/2026/progress",
    ):
        assert client.get(url).status_code == 200, url


def test_viewers_see_no_buttons_and_may_not_act(app, city, login_as):
    """Do viewers see no action buttons, and is every action refused to them (403)?"""
    client = login_as("viewer")
    page = client.get("/office/surveys/2026").get_data(as_text=True)
    assert "生成任务</button>" not in page and "截止采集</button>" not in page
    for url in (
        "/office/surveys/periods",
        "/office/surveys/2026/move/close",
        "/office/surveys/2026/assign",
        "/office/surveys/2026/rules/grassroots",
        "/office/surveys/2026/invitations",
        "/office/surveys/2026/invitations/revoke",
    ):
        assert client.post(url, data={"name": "2030"}).status_code == 403, url
    assert _state(app) is PeriodState.OPEN


def test_looking_at_a_new_period_stores_nothing(app, city, login_as):
    """Does opening a new period's page show the default rules without storing them (a GET never writes)?"""
    operator = login_as("operator")
    assert operator.post("/office/surveys/periods", data={"name": "2030"}).status_code == 302
    with app.app_context():
        period_id = db.session.execute(db.select(Period.id).filter_by(name="2030")).scalar_one()
    rules = db.select(db.func.count()).select_from(AssignmentRule).filter_by(period_id=period_id)
    with app.app_context():
        before = db.session.scalar(rules)
    page = login_as("viewer").get("/office/surveys/2030")
    assert page.status_code == 200 and "镇街评议" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(rules) == before
        assert not db.session.scalar(
            db.select(db.func.count()).select_from(AssignmentRule).filter_by(updated_by="viewer")
        )


def test_unit_liaison_is_kept_out(city, client, make_user, auth):
    """Is a unit liaison refused the raters' pages (they see only their unit's cases)?"""
    make_user("liaison", role="unit_liaison", unit_code="U01")
    auth.login("liaison")
    for url in ("/office/surveys", "/office/surveys/2026/progress", "/office/surveys/2026/invitations"):
        assert client.get(url).status_code == 403, url


def test_new_period_then_open_close_publish(app, city, login_as):
    """Can an operator create a period, open it, close it, and does publishing wait for a result?"""
    client = login_as("operator")
    response = client.post("/office/surveys/periods", data={"name": "2027", "starts_on": "", "ends_on": "2027-11-30"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/office/surveys/2027")
    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2027")).scalar_one()
        assert period.state is PeriodState.DRAFT
        assert (str(period.starts_on), str(period.ends_on)) == ("2027-01-01", "2027-11-30")
    page = client.get("/office/surveys/2027").get_data(as_text=True)
    assert "开始采集</button>" in page and "已新建周期 2027" in page

    assert client.post("/office/surveys/2027/move/open").status_code == 302
    assert _state(app, "2027") is PeriodState.OPEN
    assert client.post("/office/surveys/2027/move/close").status_code == 302
    assert _state(app, "2027") is PeriodState.CLOSED
    page = client.get("/office/surveys/2027").get_data(as_text=True)
    assert "评价人只能查看" in page and "发布结果</button>" in page

    page = client.post("/office/surveys/2027/move/publish", follow_redirects=True).get_data(as_text=True)
    assert "无法发布：尚未计算评价结果" in _flash(page)
    assert _state(app, "2027") is PeriodState.CLOSED
    with app.app_context():
        moves = db.session.execute(db.select(AuditEntry.detail).filter_by(action="period.move")).scalars().all()
    assert [(m["before"], m["after"]) for m in moves] == [("draft", "open"), ("open", "closed")]


def test_wrong_move_is_explained(app, city, login_as):
    """Is a move the workflow refuses (publish an open period) explained in Chinese and changes nothing?"""
    client = login_as("operator")
    page = client.post("/office/surveys/2026/move/publish", follow_redirects=True).get_data(as_text=True)
    assert "当前为“采集中”，不能发布结果" in _flash(page)
    assert _state(app) is PeriodState.OPEN
    assert client.post("/office/surveys/2026/move/delete").status_code == 404


def test_publish_after_scoring_passes_the_gate(app, city, login_as):
    """After closing and scoring, does 发布结果 publish (when no unit awaits review) and freeze the result?"""
    from assessment.models import Result, ResultState
    from assessment.services.scoring import score_period

    client = login_as("operator")
    client.post("/office/surveys/2026/move/close")
    with app.app_context():
        run = score_period("2026", actor="test")
        pending = [r for r in run.result.rows if r.review_flag]
        for row in pending:  # the gate: flagged units must be acknowledged first
            row.reviewed_at = row.result.computed_at
            row.reviewed_by = "test"
        db.session.commit()
    page = client.post("/office/surveys/2026/move/publish", follow_redirects=True).get_data(as_text=True)
    assert "已发布并冻结" in _flash(page)
    assert _state(app) is PeriodState.PUBLISHED
    with app.app_context():
        assert db.session.execute(db.select(Result.state)).scalar_one() is ResultState.PUBLISHED


def test_publish_is_refused_while_a_flagged_unit_awaits_review(app, city, login_as):
    """Does the review gate hold in the console: a flagged, unacknowledged unit blocks publishing?"""
    from assessment.services.scoring import score_period

    client = login_as("operator")
    client.post("/office/surveys/2026/move/close")
    with app.app_context():
        run = score_period("2026", actor="test")
        row = run.result.rows[0]
        row.review_flag, row.reviewed_at = True, None
        db.session.commit()
    page = client.post("/office/surveys/2026/move/publish", follow_redirects=True).get_data(as_text=True)
    assert "无法发布" in _flash(page) and "复核" in _flash(page)
    assert _state(app) is PeriodState.CLOSED


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": ""}, "周期名称：请填写"),
        ({"name": "20 26"}, "周期名称：请填写"),
        ({"name": "2026"}, "周期名称：周期 2026 已存在"),
        ({"name": "2028", "starts_on": "2028-13-01"}, "开始日期：请按 年-月-日 填写"),
        ({"name": "2028", "starts_on": "2028-06-01", "ends_on": "2028-05-01"}, "截止日期：不能早于开始日期"),
    ],
)
def test_new_period_bad_input(app, city, login_as, form, message):
    """Is bad input for a new period a 400 with a Chinese message naming the field, and nothing stored?"""
    client = login_as("operator")
    response = client.post("/office/surveys/periods", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(Period.name).order_by(Period.name)).scalars().all() == ["2026"]


def test_closed_period_stops_raters(app, city, login_as):
    """After 截止采集, can no rater change anything (drafts and submits refused), and do links say so?"""
    from assessment.services import access, responses
    from tests.office.conftest import _assignment

    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        from assessment.models import Rater

        g3 = db.session.execute(db.select(Rater).filter_by(code="G3")).scalar_one()
        token = access.issue([g3], period, "test")[0].token
        db.session.commit()
    login_as("operator").post("/office/surveys/2026/move/close")
    with app.app_context():
        assignment = _assignment("G3", "U01", "grassroots")
        with pytest.raises(responses.ResponseError) as exc:
            responses.save_draft(assignment, {"g01": "4"})
        assert "已截止" in exc.value.message
        with pytest.raises(responses.ResponseError):
            responses.submit(assignment)
        with pytest.raises(access.AccessError) as exc:
            access.resolve_token(token)
        assert exc.value.reason == "closed" and "已截止" in exc.value.message


def test_rules_and_assign_button(app, city, login_as):
    """Does a rule change plus 生成任务 add and drop only untouched assignments, keeping answered ones?"""
    client = login_as("operator")
    with app.app_context():
        u03 = db.session.execute(db.select(Unit).filter_by(code="U03")).scalar_one()
        u03.serves_towns = False
        db.session.commit()
    page = client.post("/office/surveys/2026/assign", follow_redirects=True).get_data(as_text=True)
    # G2 and G3 had not touched U03 (dropped); G1 submitted it (kept).
    assert "镇街评议 7 项（新增 0，移除规则不再包含的未开始任务 2，规则不再包含但已作答、予以保留 1）" in _flash(page)

    response = client.post(
        "/office/surveys/2026/rules/peer", data={"enabled": "1", "scope": "listed_units", "unit_codes": "U02，U09"}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "指定单位：单位代码不存在：U09" in _flash(page)
    client.post("/office/surveys/2026/rules/grassroots", data={"enabled": "1", "scope": "all_units"})
    page = client.post("/office/surveys/2026/assign", follow_redirects=True).get_data(as_text=True)
    assert "镇街评议 9 项（新增 2）" in _flash(page)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Assignment)) == 15


def test_assign_refused_after_close(app, city, login_as):
    """Is 生成任务 refused, with a Chinese reason, once the period is closed?"""
    client = login_as("operator")
    client.post("/office/surveys/2026/move/close")
    page = client.post("/office/surveys/2026/assign", follow_redirects=True).get_data(as_text=True)
    assert "不能再生成评价任务" in _flash(page)
    assert "生成任务</button>" not in page


def test_forms_need_the_csrf_token(app, city, make_user):
    """With CSRF protection on (as in production), is a console action without its token refused?"""
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("op", role="operator")
    client = app.test_client()
    page = client.get("/office/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/office/login", data={"username": "op", "password": "correct-horse-1", "csrf_token": token})
    assert client.post("/office/surveys/2026/move/close").status_code == 400
    assert _state(app) is PeriodState.OPEN
    page = client.get("/office/surveys/2026").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/office/surveys/2026/move/close", data={"csrf_token": token}).status_code == 302
    assert _state(app) is PeriodState.CLOSED
