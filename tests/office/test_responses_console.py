"""Single responses in the console: only data administrators see raters next to answers; 退回, 作废, 更正."""

import pytest

from assessment.extensions import db
from assessment.models import (
    Assignment,
    AssignmentState,
    AuditEntry,
    Response,
    ResponseSource,
    ResponseVersion,
)


def _response(app, assignment_id):
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        response = assignment.response
        versions = [
            (
                v.version,
                v.source,
                v.recorded_by,
                v.reason,
                v.invalid_by,
                v.invalid_reason,
                {a.question: a.value for a in v.answers},
            )
            for v in response.versions
        ]
        return assignment.state, response.current_version, response.return_reason, versions


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_only_data_admins_see_answers_with_names(city, login_as, assignment_id, role):
    """Are the response pages (names next to answers) refused to every role but data administrators?"""
    client = login_as(role)
    aid = assignment_id("G1", "U01", "grassroots")
    assert client.get("/office/surveys/2026/responses").status_code == 403
    assert client.get(f"/office/surveys/responses/{aid}").status_code == 403
    for action in ("return", "correction"):
        assert client.post(f"/office/surveys/responses/{aid}/{action}", data={"reason": "x"}).status_code == 403
    page = client.get("/office/surveys/2026").get_data(as_text=True)
    assert "答卷管理" not in page


def test_data_admin_lists_and_reads_a_response(city, login_as, assignment_id):
    """Does a data administrator see the submitted responses with names, and one response's answers?"""
    client = login_as("data_admin")
    page = client.get("/office/surveys/2026/responses").get_data(as_text=True)
    assert "共 8 份" in page and "G1 张晓红" in page and "G3 王海燕" not in page  # G3 submitted nothing
    page = client.get("/office/surveys/2026/responses?show=not_opened&rater=王海燕").get_data(as_text=True)
    assert "共 3 份" in page
    page = client.get("/office/surveys/2026/responses?show=in_progress&instrument=peer").get_data(as_text=True)
    assert "共 1 份" in page and "周科长" in page and "市档案馆" in page
    assert client.get("/office/surveys/2026/responses?show=deleted").status_code == 400

    aid = assignment_id("G1", "U01", "grassroots")
    page = client.get(f"/office/surveys/responses/{aid}").get_data(as_text=True)
    assert "G1 张晓红" in page and "市民政局" in page and "第 1 版" in page and "评价人在线提交" in page
    assert "4 · 满意" in page and "当前版本" in page
    assert client.get("/office/surveys/responses/999999").status_code == 404


def test_return_to_rater(app, city, login_as, assignment_id):
    """Does 退回 put a submitted response back in progress with its reason, keeping the submitted version?"""
    client = login_as("data_admin")
    aid = assignment_id("G1", "U02", "grassroots")
    page = client.post(f"/office/surveys/responses/{aid}/return", data={"reason": ""}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "退回原因：请填写原因" in page
    assert _response(app, aid)[0] is AssignmentState.SUBMITTED
    page = client.post(
        f"/office/surveys/responses/{aid}/return", data={"reason": "第3题与纸质稿不符，请核对"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已退回评价人修改" in page and "第3题与纸质稿不符" in page
    state, current, reason, versions = _response(app, aid)
    assert state is AssignmentState.IN_PROGRESS and current == 1 and reason == "第3题与纸质稿不符，请核对"
    assert len(versions) == 1  # nothing deleted
    again = client.post(f"/office/surveys/responses/{aid}/return", data={"reason": "again"}, follow_redirects=True)
    assert "尚未提交，无需退回" in again.get_data(as_text=True)


def test_return_refused_when_closed(app, city, login_as, assignment_id):
    """Is 退回 refused once the period is closed (the rater could not change anything)?"""
    client = login_as("data_admin")
    client.post("/office/surveys/2026/move/close")
    aid = assignment_id("G1", "U02", "grassroots")
    page = client.post(
        f"/office/surveys/responses/{aid}/return", data={"reason": "核对"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已截止" in page
    assert _response(app, aid)[0] is AssignmentState.SUBMITTED


def test_mark_invalid_and_valid_again(app, city, login_as, assignment_id):
    """Is a version marked invalid with who and why (answers kept), left out of scoring, and restorable?"""
    from assessment.models import Period
    from assessment.services.gather import gather_inputs

    client = login_as("data_admin")
    aid = assignment_id("L1", "U03", "leader")
    with app.app_context():
        vid = db.session.execute(
            db.select(ResponseVersion.id).join(Response).where(Response.assignment_id == aid)
        ).scalar_one()

    def leader_answers():
        with app.app_context():
            period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
            answers = gather_inputs(period).answers
            return len(answers[(answers.instrument == "leader") & (answers.unit == "U03")])

    before = leader_answers()
    assert before > 0
    url = f"/office/surveys/responses/{aid}/versions/{vid}/validity"
    page = client.post(url, data={"action": "invalid", "reason": ""}, follow_redirects=True).get_data(as_text=True)
    assert "无效原因：请填写原因" in page
    page = client.post(url, data={"action": "invalid", "reason": "代填，经核实非本人"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "已标记为无效" in page and "代填，经核实非本人" in page
    versions = _response(app, aid)[3]
    assert versions[0][4] == "data_admin" and versions[0][5] == "代填，经核实非本人" and versions[0][6]
    assert leader_answers() == 0
    client.post(url, data={"action": "valid", "reason": "复核后确认有效"})
    assert _response(app, aid)[3][0][4] is None
    assert leader_answers() == before
    with app.app_context():
        actions = (
            db.session.execute(db.select(AuditEntry.action).where(AuditEntry.action.like("response.%"))).scalars().all()
        )
    assert actions == ["response.invalid", "response.valid"]
    other = assignment_id("G1", "U01", "grassroots")
    assert (
        client.post(
            f"/office/surveys/responses/{other}/versions/{vid}/validity", data={"action": "invalid", "reason": "x"}
        ).status_code
        == 404
    )


def test_key_in_a_correction(app, city, login_as, assignment_id):
    """Does 录入更正 add a new version (source correction, who, why) and keep the old one?"""
    from assessment.services.responses import definition

    client = login_as("data_admin")
    aid = assignment_id("G2", "U01", "grassroots")
    with app.app_context():
        questions = [q.id for q in definition(db.session.get(Assignment, aid).instrument).questions]
    form = {f"q_{q}": "5" for q in questions}
    form[f"q_{questions[0]}"] = "na"
    form["reason"] = "按纸质问卷更正"
    page = client.post(f"/office/surveys/responses/{aid}/correction", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "已保存更正（第 2 版）" in page and "编办更正" in page
    state, current, _, versions = _response(app, aid)
    assert state is AssignmentState.SUBMITTED and current == 2
    assert [v[:4] for v in versions] == [
        (1, ResponseSource.WEB, None, None),
        (2, ResponseSource.CORRECTION, "data_admin", "按纸质问卷更正"),
    ]
    assert versions[1][6][questions[0]] is None and versions[1][6][questions[1]] == 5
    assert set(versions[0][6].values()) == {4}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"q_g02": "7"}, "g02"),
        ({"q_g03": ""}, "缺少：g03"),
        ({"reason": " "}, "更正原因：请填写原因"),
    ],
)
def test_bad_correction_is_refused(app, city, login_as, assignment_id, change, message):
    """Is a bad correction a 400 naming the question or field, with the typed values kept and nothing stored?"""
    from assessment.services.responses import definition

    client = login_as("data_admin")
    aid = assignment_id("G3", "U01", "grassroots")  # never opened: a paper form keyed in
    with app.app_context():
        questions = [q.id for q in definition(db.session.get(Assignment, aid).instrument).questions]
    form = {f"q_{q}": "3" for q in questions} | {"reason": "纸质问卷录入"} | change
    response = client.post(f"/office/surveys/responses/{aid}/correction", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert '<option value="3" selected>' in page  # what was typed is still there
    with app.app_context():
        assignment = db.session.get(Assignment, aid)
        assert assignment.state is AssignmentState.NOT_OPENED
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(ResponseVersion)
                .join(Response)
                .where(Response.assignment_id == aid)
            )
            == 0
        )
