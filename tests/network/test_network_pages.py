"""The network's pages through the test client: informants, linkage departments, experts with personal links;
the office's screening, ledger pages and downloads; what a unit liaison and an informant may not see."""

import csv
import io
import re

from sqlalchemy import func, select

from assessment.extensions import db
from assessment.models import Participant, Period, Problem, ProblemState, Suggestion, SuggestionStatus
from assessment.services import access, ledger
from assessment.services.ledger import ProblemInput
from tests.network.helpers import PDF, PNG


def _link(app, code):
    """Issue a personal link to participant `code`; returns its /p/<token> path."""
    with app.app_context():
        person = db.session.scalar(select(Participant).filter_by(code=code))
        period = db.session.scalar(select(Period).filter_by(name="2026"))
        token = access.issue([person], period, "test")[0].token
        db.session.commit()
    return f"/p/{token}"


def _participant(app, code):
    client = app.test_client()
    assert client.get(_link(app, code)).status_code == 302
    return client


def _suggest(client, net, text="窗口午休无人", unit="U01", **extra):
    data = {"kind": "report", "unit_id": str(net.units[unit]), "text": text, "happened_on": "2026-03-01", **extra}
    return client.post("/p/suggest", data=data, content_type="multipart/form-data")


def test_informant_reports_and_sees_only_own(app, net):
    """Does an informant's report with a photo arrive, and does each informant see only their own reports?"""
    one, two = _participant(app, "I1"), _participant(app, "I2")
    assert _suggest(one, net, file=(io.BytesIO(PNG), "现场.png")).status_code == 302
    assert _suggest(two, net, text="另一位的反映").status_code == 302
    page_one = one.get("/p/home").get_data(as_text=True)
    assert "窗口午休无人" in page_one and "另一位的反映" not in page_one
    assert "李信息" not in page_one
    page_two = two.get("/p/home").get_data(as_text=True)
    assert "窗口午休无人" not in page_two and "另一位的反映" in page_two
    with app.app_context():
        s = db.session.scalar(select(Suggestion).filter_by(text="窗口午休无人"))
        assert s.file.original_name == "现场.png" and s.file.size == len(PNG)


def test_informant_bad_input_keeps_nothing(app, net):
    """Are a wrong file type, a too large file, an empty text and a report without a unit refused by name?"""
    client = _participant(app, "I1")
    bad = _suggest(client, net, file=(io.BytesIO(b"MZ\x90\x00"), "a.exe"))
    assert bad.status_code == 400 and "照片或附件" in bad.get_data(as_text=True)
    app.config["UPLOAD_MAX_BYTES"] = 100 * 1024  # small, so that the test client keeps the body in memory
    big = _suggest(client, net, file=(io.BytesIO(PNG + b"\x00" * (200 * 1024)), "big.png"))
    assert big.status_code == 400 and "照片或附件：文件超过" in big.get_data(as_text=True)
    empty = _suggest(client, net, text=" ")
    assert empty.status_code == 400 and "具体内容" in empty.get_data(as_text=True)
    nounit = client.post("/p/suggest", data={"kind": "report", "unit_id": "", "text": "x"})
    assert nounit.status_code == 400 and "涉及单位" in nounit.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Suggestion.id))) == 0
    folder = __import__("pathlib").Path(app.instance_path) / "uploads" / "suggestions"
    assert not folder.exists() or not [f for f in folder.iterdir() if not f.name.startswith(".")]


def test_office_screens_and_turns_into_problem(app, net, auth):
    """Can the office screen (invalid needs a reason), count, download the photo and turn a valid one into a
    problem with source informant — and may a viewer not screen?"""
    informant = _participant(app, "I1")
    _suggest(informant, net, file=(io.BytesIO(PNG), "p.png"))
    _suggest(informant, net, text="无关内容")
    with app.app_context():
        ids = {s.text: s.id for s in db.session.scalars(select(Suggestion))}
    auth.login("office")
    client = auth._client
    page = client.get("/office/network").get_data(as_text=True)
    assert "王信息" in page and "收集意见建议" in page
    refused = client.post(
        f"/office/network/suggestions/{ids['无关内容']}/screen", data={"verdict": "invalid"}, follow_redirects=True
    )
    assert "无效理由" in refused.get_data(as_text=True)
    client.post(
        f"/office/network/suggestions/{ids['无关内容']}/screen", data={"verdict": "invalid", "note": "非职能问题"}
    )
    client.post(f"/office/network/suggestions/{ids['窗口午休无人']}/screen", data={"verdict": "valid", "note": ""})
    photo = client.get(f"/office/network/suggestions/file/{ids['窗口午休无人']}")
    assert photo.status_code == 200 and photo.data == PNG
    photo.close()
    made = client.post(
        f"/office/network/suggestions/{ids['窗口午休无人']}/problem",
        data={
            "unit_id": str(net.units["U01"]),
            "title": "窗口午休无人值守",
            "severity": "general",
            "problem_class": "unit",
            "found_on": "2026-03-02",
            "category": "问题整改",
        },
    )
    assert made.status_code == 302
    with app.app_context():
        problem = db.session.scalar(select(Problem))
        assert (problem.number, problem.source.value, problem.reporter.code) == ("2026-0001", "informant", "I1")
        statuses = dict(db.session.execute(select(Suggestion.text, Suggestion.status)).all())
        assert statuses == {"窗口午休无人": SuggestionStatus.VALID, "无关内容": SuggestionStatus.INVALID}
    counts = client.get("/office/network").get_data(as_text=True)
    assert re.search(r'<div class="n">2</div><div class="l">收集', counts)
    assert re.search(r'<div class="n">1</div><div class="l">甄别有效', counts)
    # the informant sees the verdict, not who screened
    assert "非职能问题" in informant.get("/p/home").get_data(as_text=True)
    auth.logout()
    auth.login("viewer")
    assert (
        client.post(f"/office/network/suggestions/{ids['无关内容']}/screen", data={"verdict": "valid"}).status_code
        == 403
    )


def test_informant_identity_hidden_from_liaison_and_expert(app, net, auth):
    """Does neither the unit's liaison nor an expert ever see who reported a problem?"""
    informant = _participant(app, "I1")
    _suggest(informant, net)
    with app.app_context():
        s = db.session.scalar(select(Suggestion))
        from assessment.services import network

        network.screen(s, "office", valid=True, note=None)
        p = network.to_problem(s, "office", ProblemInput(unit_id=net.units["U01"], title="午休无人"))
        ledger.push(p, "office")
        db.session.commit()
        pid = p.id
    expert = _participant(app, "E1")
    assert "王信息" not in expert.get("/p/home").get_data(as_text=True)
    auth.login("liaison1")
    page = auth._client.get(f"/office/ledger/unit/{pid}/report").get_data(as_text=True)
    assert "午休无人" in page and "王信息" not in page
    assert auth._client.get("/office/network").status_code == 403
    assert auth._client.get(f"/office/ledger/{pid}").status_code == 403


def test_liaison_reports_rectification_only_for_own_unit(app, net, auth):
    """Can the liaison of U01 report with a file on U01's pushed problem, but not reach U02's?"""
    with app.app_context():
        period = db.session.scalar(select(Period))
        mine = ledger.file_problem(period, ProblemInput(unit_id=net.units["U01"], title="甲"), "office")
        other = ledger.file_problem(period, ProblemInput(unit_id=net.units["U02"], title="乙"), "office")
        ledger.push(mine, "office")
        ledger.push(other, "office")
        db.session.commit()
        mine_id, other_id = mine.id, other.id
    auth.login("liaison1")
    client = auth._client
    assert client.get(f"/office/ledger/unit/{other_id}/report").status_code == 404
    assert client.post(f"/office/ledger/unit/{other_id}/report", data={"note": "x"}).status_code == 404
    empty = client.post(f"/office/ledger/unit/{mine_id}/report", data={"note": ""})
    assert empty.status_code == 400 and "整改情况" in empty.get_data(as_text=True)
    done = client.post(
        f"/office/ledger/unit/{mine_id}/report",
        data={"note": "已整改", "files": [(io.BytesIO(PDF), "整改报告.pdf")]},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, re.findall(r'role="alert">(.*?)<', done.get_data(as_text=True))
    with app.app_context():
        from assessment.models import StepFile

        file_id = db.session.scalar(select(StepFile.id))
    evidence = client.get(f"/office/ledger/file/{file_id}")
    assert evidence.data == PDF
    evidence.close()
    auth.logout()
    auth.login("liaison2")
    assert client.get(f"/office/ledger/file/{file_id}").status_code == 404


def test_office_ledger_pages_workflow_and_csv(app, net, auth):
    """Can the office file, push, close with evidence, and download the CSV and the 信息推送表 PDF?"""
    auth.login("office")
    client = auth._client
    bad = client.post(
        "/office/ledger/new",
        data={"unit_id": str(net.units["U01"]), "title": "超时", "found_on": "2026-03-01", "deadline": "2026-02-01"},
    )
    assert bad.status_code == 400 and "整改期限" in bad.get_data(as_text=True)
    made = client.post(
        "/office/ledger/new",
        data={
            "unit_id": str(net.units["U01"]),
            "title": "超时",
            "found_on": "2026-01-05",
            "deadline": "2026-02-01",
            "category": "评估考核",
            "severity": "serious",
        },
    )
    assert made.status_code == 302
    pid = int(made.headers["Location"].rsplit("/", 1)[1])
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "2026-0001" in page and "暂停受理机构编制事项申请" in page
    no_evidence = client.post(f"/office/ledger/{pid}/close", data={"note": "同意"}, follow_redirects=True)
    assert "佐证材料" in no_evidence.get_data(as_text=True)
    assert client.post(f"/office/ledger/{pid}/push", data={}).status_code == 302
    closed = client.post(
        f"/office/ledger/{pid}/close",
        data={"note": "同意销号", "on": "2026-03-01", "files": [(io.BytesIO(PDF), "验收.pdf")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "验收销号已记录" in closed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Problem, pid).state is ProblemState.CLOSED
    sheet = client.get(f"/office/ledger/{pid}/sheet.pdf")
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")
    data = client.get("/office/ledger.csv?period=2026").data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert data.startswith("\ufeff".encode()) and rows[1][0] == "2026-0001" and rows[1][-2:] == ["true", "false"]
    listing = client.get("/office/ledger?tab=reserve").get_data(as_text=True)
    assert "没有符合条件的问题" in listing


def test_linkage_department_files_and_quarter_list(app, net, auth):
    """Does a linkage department's report become a numbered problem with its source, and does the quarter list
    name the department that has not reported?"""
    k1 = _participant(app, "K1")
    response = k1.post(
        "/p/report",
        data={
            "unit_id": str(net.units["U03"]),
            "title": "审计发现违规发放补贴",
            "severity": "grave",
            "found_on": "2026-11-02",
        },
    )
    assert response.status_code == 302
    assert "2026-0001" in k1.get("/p/home").get_data(as_text=True)
    bad = k1.post("/p/report", data={"unit_id": "", "title": "x"})
    assert bad.status_code == 400 and "被反映单位" in bad.get_data(as_text=True)
    with app.app_context():
        p = db.session.scalar(select(Problem))
        assert (p.source.value, p.reporter.code) == ("linkage", "K1")
        created = p.created_at
    from assessment.services.network import quarter_of
    from assessment.timefmt import china_time

    year, quarter = quarter_of(china_time(created).date())
    auth.login("office")
    page = auth._client.get(f"/office/network/people?year={year}&quarter={quarter}").get_data(as_text=True)
    missing = page.split("未报送：", 1)[1].split("</p>", 1)[0]
    assert "信访局" in missing and "审计局" not in missing
    assert _participant(app, "I1").post("/p/report", data={"title": "x"}).status_code == 403


def test_expert_comments(app, net):
    """Can an expert comment on a problem of the period, and is an empty comment refused by name?"""
    with app.app_context():
        period = db.session.scalar(select(Period))
        pid = ledger.file_problem(period, ProblemInput(unit_id=net.units["U01"], title="甲"), "office").id
        db.session.commit()
    expert = _participant(app, "E1")
    assert expert.post(f"/p/comment/{pid}", data={"text": "建议限期"}).status_code == 302
    assert "建议限期" in expert.get("/p/home").get_data(as_text=True)
    refused = expert.post(f"/p/comment/{pid}", data={"text": ""}, follow_redirects=True)
    assert "点评意见" in refused.get_data(as_text=True)
    assert expert.post("/p/suggest", data={"text": "x"}).status_code == 403


def test_linkage_import_from_console(app, net, auth):
    """Does the console's linkage import number the department's problems and keep it as their reporter?"""
    auth.login("office")
    body = (
        "unit_code,title,source,severity,found_on,deadline,class\n"
        "U02,信访反映推诿,linkage,general,2026-04-01,2026-07-01,\n"
    )
    response = auth._client.post(
        "/office/network/linkage/import?period=2026",
        data={"department": str(net.people["K2"]), "file": (io.BytesIO(body.encode()), "k2.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "新增 1 个问题" in response.get_data(as_text=True)
    with app.app_context():
        p = db.session.scalar(select(Problem))
        assert (p.number, p.reporter_id) == ("2026-0001", net.people["K2"])


def test_the_informant_is_named_nowhere_in_the_history(app, net):
    """Is a converted suggestion's informant kept only as the reporter, never written into a step's note, and
    does a unit see only its rectification steps and an expert only the comments?"""
    from assessment.models import ProblemAction, ProblemStep
    from assessment.services import network

    informant = _participant(app, "I1")
    _suggest(informant, net)
    with app.app_context():
        s = db.session.scalar(select(Suggestion))
        network.screen(s, "office", valid=True, note=None)
        p = network.to_problem(s, "office", ProblemInput(unit_id=net.units["U01"], title="午休无人"))
        ledger.push(p, "office")
        expert = db.session.get(Participant, net.people["E1"])
        ledger.comment(p, expert, "建议限期整改")
        db.session.commit()
        notes = [step.note or "" for step in db.session.scalars(select(ProblemStep))]
        assert p.reporter_id == net.people["I1"]
        assert all("王信息" not in note for note in notes)
        assert [st.action for st in ledger.visible_steps(p, "unit")] == [ProblemAction.PUSH]
        assert [st.action for st in ledger.visible_steps(p, "expert")] == [ProblemAction.COMMENT]


def test_a_double_clicked_linkage_report_is_refused_not_a_500(app, net, monkeypatch):
    """Does a second identical report that raced past the duplicate check get the Chinese refusal (400) and its
    page, with one problem stored, instead of a 500 from the failed flush?"""
    from assessment.services import ledger

    k1 = _participant(app, "K1")
    data = {"unit_id": str(net.units["U03"]), "title": "同一问题", "severity": "general", "found_on": "2026-11-02"}
    assert k1.post("/p/report", data=data).status_code == 302
    monkeypatch.setattr(ledger, "_same_problem", lambda period, values: None)  # as if the first had not committed
    again = k1.post("/p/report", data=data)
    assert again.status_code == 400 and "本单位同日已登记同一问题" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Problem.id))) == 1
