"""The raters' pages through the test client: home, matrix, single unit, drafts, submission, privacy, CSRF."""

import re

import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import Assignment, Response, ResponseVersion
from tests.web.helpers import assignments_of


def _draft(app, assignment_id):
    with app.app_context():
        response = db.session.execute(sa.select(Response).filter_by(assignment_id=assignment_id)).scalar_one_or_none()
        return None if response is None else response.draft


def _versions(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ResponseVersion))


def test_home_lists_every_target_with_its_state_progress_and_deadline(app, rater_client):
    """Does the home page show each unit with 未开始/填写中/已提交, the overall progress and the deadline?"""
    client = rater_client("D01")
    ids = {(u, k): i for i, u, k, _ in assignments_of(app, "D01")}
    client.post("/rater/answer", json={"assignment": ids[("U02", "peer")], "question": "p01", "value": "4"})
    page = client.get("/rater/").get_data(as_text=True)
    assert "赵部门" in page and "2026年12月31日" in page
    for name in ("市财政局", "市民政局", "市档案馆", "市交通运输局", "市教育局"):
        assert name in page
    assert page.count("未开始") == 4 and page.count("填写中") == 1
    assert re.search(r'<progress id="overall" max="5" value="0"', page)
    assert "市直部门（单位）互评问卷" in page  # instrument titles come from the definitions


def test_matrix_page_has_units_as_rows_and_the_scale_with_dont_know(app, rater_client):
    """Does a matrix page list every unit with the five choices and 不了解, each control labelled?"""
    client = rater_client("G01")
    page = client.get("/rater/grassroots/q/1").get_data(as_text=True)
    assert "第 1 / 16 题" in page
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    for i in ids:
        assert page.count(f'name="a{i}.g01"') == 6
        assert f'aria-labelledby="l-a{i}-g01"' in page and f'id="l-a{i}-g01"' in page
    assert page.count("不了解") >= len(ids)
    assert "市档案馆" not in page  # does not serve towns
    assert client.get("/rater/grassroots/q/17").status_code == 404
    assert client.get("/rater/leader/q/1").status_code == 404  # not this rater's instrument


def test_score100_questions_are_number_fields_with_their_range(app, rater_client):
    """Does an expert's score100 question render as a number field 0-100 with a 不了解 box?"""
    client = rater_client("E01")
    aid = assignments_of(app, "E01", "expert")[0][0]
    page = client.get(f"/rater/unit/{aid}").get_data(as_text=True)
    field = re.search(rf'<input type="number" id="f-a{aid}-e02" name="a{aid}.e02" min="0" max="100"[^>]*>', page)
    assert field, page[:2000]
    assert f'<label class="num" for="f-a{aid}-e02">' in page and f'name="a{aid}.e02.na"' in page
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.e02": "87.5", f"a{aid}.e08.na": "1", "go": "stay"})
    assert _draft(app, aid) == {"e02": 87.5, "e08": None}
    bad = client.post(f"/rater/unit/{aid}", data={f"a{aid}.e02": "130", "go": "stay"})
    assert bad.status_code == 400 and "超出范围" in bad.get_data(as_text=True)
    assert _draft(app, aid) == {"e02": 87.5, "e08": None}


def test_save_button_without_script_keeps_a_draft_seen_on_another_device(app, rater_client, issue_link):
    """Does the no-script save button store answers, shown on reload and on a second device?"""
    client = rater_client("G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    data = {f"a{ids[0]}.g01": "5", f"a{ids[1]}.g01": "na", "go": "next"}
    response = client.post("/rater/grassroots/q/1", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/rater/grassroots/q/2")
    assert _draft(app, ids[0]) == {"g01": 5.0} and _draft(app, ids[1]) == {"g01": None}
    page = client.get("/rater/grassroots/q/1").get_data(as_text=True)
    assert re.search(rf'name="a{ids[0]}.g01" value="5" checked', page)
    assert re.search(rf'name="a{ids[1]}.g01" value="na" checked', page)
    # The same rater on a phone, through a link the office issued again (it revokes the first one).
    token, _ = issue_link("G01")
    phone = app.test_client()
    phone.get(f"/r/{token}")
    assert re.search(
        rf'name="a{ids[0]}.g01" value="5" checked', phone.get("/rater/grassroots/q/1").get_data(as_text=True)
    )


def test_each_answer_is_saved_once_by_the_script_endpoint(app, rater_client):
    """Does the per-answer JSON save store the answer, and sending it again (offline retry) change nothing?"""
    client = rater_client("G01")
    aid = assignments_of(app, "G01", "grassroots")[0][0]
    for _ in range(3):
        response = client.post("/rater/answer", json={"assignment": aid, "question": "g05", "value": "3"})
        assert response.status_code == 200 and response.get_json() == {"saved": True, "state": "in_progress"}
    assert _draft(app, aid) == {"g05": 3.0}
    bad = client.post("/rater/answer", json={"assignment": aid, "question": "g05", "value": "9"})
    assert bad.status_code == 400 and "第 5 题" in bad.get_json()["error"]["message"]
    assert client.post("/rater/answer", data="not json").status_code == 400
    assert client.post("/rater/answer", json={"assignment": True, "question": "g05", "value": "3"}).status_code == 400
    assert (
        client.post("/rater/answer", json={"assignment": 99999999999, "question": "g05", "value": "3"}).status_code
        == 404
    )
    assert _draft(app, aid) == {"g05": 3.0}


def test_a_rater_sees_and_changes_only_their_own_assignments(app, rater_client):
    """Can G01 neither open, save nor submit G02's assignments (not found, nothing changed)?"""
    g01 = rater_client("G01")
    g02 = rater_client("G02")
    theirs = assignments_of(app, "G02", "grassroots")[0][0]
    g02.post("/rater/answer", json={"assignment": theirs, "question": "g01", "value": "2"})
    assert g01.get(f"/rater/unit/{theirs}").status_code == 404
    assert g01.post(f"/rater/unit/{theirs}", data={f"a{theirs}.g01": "5"}).status_code == 404
    response = g01.post("/rater/answer", json={"assignment": theirs, "question": "g01", "value": "5"})
    assert response.status_code == 404
    g01.post("/rater/grassroots/submit", data={"confirm": "1", "unit": str(theirs)})
    assert _draft(app, theirs) == {"g01": 2.0}
    with app.app_context():
        assert db.session.get(Assignment, theirs).state.value == "in_progress"
    assert "李街干" not in g01.get("/rater/").get_data(as_text=True)
    assert app.test_client().get("/rater/").status_code == 302  # no session: to the code page


def test_submit_shows_what_is_unanswered_and_needs_confirmation(app, rater_client):
    """Does the submit page list unanswered questions per unit, refuse without the tick, then submit once?"""
    client = rater_client("G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    client.post("/rater/answer", json={"assignment": ids[0], "question": "g01", "value": "5"})
    page = client.get("/rater/grassroots/submit").get_data(as_text=True)
    assert "市教育局</a>：第 2–16 题" in page and "市财政局</a>：第 1–16 题" in page
    assert "按“不了解”处理" in page
    refused = client.post("/rater/grassroots/submit", data={})
    assert refused.status_code == 400 and "我已确认" in refused.get_data(as_text=True)
    assert _versions(app) == 0
    done = client.post("/rater/grassroots/submit", data={"confirm": "1"}, follow_redirects=True)
    assert "已提交 4 份问卷" in done.get_data(as_text=True)
    assert _versions(app) == 4
    again = client.post("/rater/grassroots/submit", data={"confirm": "1"}, follow_redirects=True)
    assert "无需重复提交" in again.get_data(as_text=True) and _versions(app) == 4


def test_submitted_answers_are_read_only(app, rater_client):
    """After submitting, are the controls disabled and every change refused?"""
    client = rater_client("L01")
    aid = assignments_of(app, "L01", "leader")[0][0]
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "4", "go": "stay"})
    client.post("/rater/leader/submit", data={"confirm": "1", "unit": str(aid)})
    page = client.get(f"/rater/unit/{aid}").get_data(as_text=True)
    assert re.search(rf'name="a{aid}.l01" value="4" checked disabled', page)
    assert "已提交" in page and 'value="submit"' not in page
    response = client.post("/rater/answer", json={"assignment": aid, "question": "l01", "value": "1"})
    assert response.status_code == 409 and "已经提交" in response.get_json()["error"]["message"]
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "1", "go": "stay"})
    with app.app_context():
        version = db.session.execute(sa.select(ResponseVersion)).scalar_one()
        assert {a.question: a.value for a in version.answers}["l01"] == 4.0


def test_a_form_sent_after_closing_or_submitting_says_it_was_not_saved(app, rater_client, city):
    """A page left open while the period closes or another tab submits: is the no-script save refused (409),
    never reported as 已保存?"""
    from assessment.models import Period, PeriodState

    leader = rater_client("L01")
    aid = assignments_of(app, "L01", "leader")[0][0]
    leader.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "4", "go": "stay"}, follow_redirects=True)
    leader.post("/rater/leader/submit", data={"confirm": "1", "unit": str(aid)}, follow_redirects=True)
    refused = leader.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "1", "go": "stay"}, follow_redirects=True)
    assert refused.status_code == 409 and "已经提交" in refused.get_data(as_text=True)
    assert "已保存" not in refused.get_data(as_text=True)

    grassroots = rater_client("G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    with app.app_context():
        db.session.get(Period, city.period_id).state = PeriodState.CLOSED
        db.session.commit()
    for url, data in (
        ("/rater/grassroots/q/1", {f"a{ids[0]}.g01": "5", "go": "stay"}),
        (f"/rater/unit/{ids[0]}", {f"a{ids[0]}.g01": "5", "go": "stay"}),
    ):
        refused = grassroots.post(url, data=data, follow_redirects=True)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 409 and "已截止" in page and "已保存" not in page
    assert _draft(app, ids[0]) is None


def test_straight_lining_is_asked_once_more(app, rater_client):
    """When every unit got the same answers, must the rater confirm that too before submitting?"""
    client = rater_client("G01")
    ids = [i for i, *_ in assignments_of(app, "G01", "grassroots")]
    data = {f"a{i}.g{q:02d}": "5" for i in ids for q in range(1, 17)}
    client.post("/rater/grassroots/q/1", data={**data, "go": "stay"})
    page = client.get("/rater/grassroots/submit").get_data(as_text=True)
    assert "完全相同" in page and 'name="confirm_same"' in page
    refused = client.post("/rater/grassroots/submit", data={"confirm": "1"})
    assert refused.status_code == 400 and _versions(app) == 0
    client.post("/rater/grassroots/submit", data={"confirm": "1", "confirm_same": "1"})
    assert _versions(app) == 4


def test_single_unit_page_saves_and_moves_to_the_next_unit(app, rater_client):
    """Does the single-unit page show every question, and 'save, next unit' go to the next open unit?"""
    client = rater_client("L01")
    ids = [i for i, *_ in assignments_of(app, "L01", "leader")]
    page = client.get(f"/rater/unit/{ids[0]}").get_data(as_text=True)
    assert page.count(f'name="a{ids[0]}.l0') == 6 * 6
    response = client.post(f"/rater/unit/{ids[0]}", data={f"a{ids[0]}.l01": "3", "go": "next"})
    assert response.headers["Location"].endswith(f"/rater/unit/{ids[1]}")
    assert _draft(app, ids[0]) == {"l01": 3.0}


def test_forms_carry_csrf_tokens_and_posts_without_one_are_refused(app, rater_client):
    """With CSRF on, does every rater form carry a token and a post without one change nothing?"""
    app.config["WTF_CSRF_ENABLED"] = True
    client = rater_client("G01")
    aid = assignments_of(app, "G01", "grassroots")[0][0]
    page = client.get("/rater/grassroots/q/1").get_data(as_text=True)
    assert page.count("<form") == page.count('name="csrf_token"') >= 2
    assert '<meta name="csrf-token"' in page
    assert client.post("/rater/answer", json={"assignment": aid, "question": "g01", "value": "5"}).status_code == 400
    assert client.post("/rater/grassroots/q/1", data={f"a{aid}.g01": "5"}).status_code == 400
    token = client.get("/rater/csrf").get_json()["token"]
    ok = client.post(
        "/rater/answer",
        json={"assignment": aid, "question": "g01", "value": "5"},
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200 and _draft(app, aid) == {"g01": 5.0}
    code_page = app.test_client().get("/r/").get_data(as_text=True)
    assert 'name="csrf_token"' in code_page and '<label for="code">' in code_page


def test_a_returned_questionnaire_shows_the_reason_and_can_be_resubmitted(app, rater_client):
    """After the office returns a submitted questionnaire, does the rater see why, edit it and submit again?"""
    from assessment.services import responses

    client = rater_client("L01")
    aid = assignments_of(app, "L01", "leader")[0][0]
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "4", "go": "stay"})
    client.post("/rater/leader/submit", data={"confirm": "1", "unit": str(aid)})
    with app.app_context():
        responses.return_to_rater(db.session.get(Assignment, aid), "office", "请核实第1题")
        db.session.commit()
    home = client.get("/rater/").get_data(as_text=True)
    assert "已退回" in home and "请核实第1题" in home
    page = client.get(f"/rater/unit/{aid}").get_data(as_text=True)
    assert re.search(rf'name="a{aid}.l01" value="4" checked>', page)  # editable again, with the old answer
    client.post(f"/rater/unit/{aid}", data={f"a{aid}.l01": "2", "go": "stay"})
    client.post("/rater/leader/submit", data={"confirm": "1", "unit": str(aid)})
    with app.app_context():
        versions = db.session.execute(sa.select(ResponseVersion).order_by(ResponseVersion.version)).scalars().all()
        assert [v.version for v in versions] == [1, 2]
        assert {a.question: a.value for a in versions[1].answers}["l01"] == 2.0
    assert "请核实第1题" not in client.get("/rater/").get_data(as_text=True)
