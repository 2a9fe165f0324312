# ruff: noqa: F811  (the `net` fixture is imported from tests/network and used as an argument)
"""An informant on a 390 px phone in a real browser: personal link, a report with a photo, their own list; the
office then sees it, and the unit's liaison reports the rectification with a file."""

import os

from sqlalchemy import select

from assessment.extensions import db
from assessment.models import Participant, Period, Suggestion
from assessment.services import access, ledger, network
from assessment.services.ledger import ProblemInput
from tests.network.conftest import net  # noqa: F401  (the small network as a fixture)
from tests.network.helpers import PDF, PNG

SHOTS = os.environ.get("ASSESSMENT_SCREENSHOTS")


def _shot(page, name, full_page=True):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=full_page)


def test_informant_reports_from_a_phone(app, net, live_server, page, tmp_path):
    """Can an informant open their link on a 390 px screen, send a report with a photo, and see it listed?"""
    with app.app_context():
        person = db.session.scalar(select(Participant).filter_by(code="I1"))
        token = access.issue([person], db.session.scalar(select(Period)), "test")[0].token
        db.session.commit()
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(PNG)
    page.goto(f"{live_server}/p/{token}")
    assert page.url.endswith("/p/home")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"
    page.select_option("#unit_id", label="市民政局")
    page.fill("#text", "市民政局窗口午休时段无人值守，群众等候一个多小时。")
    page.fill("#happened_on", "2026-03-02")
    page.set_input_files("#file", str(photo))
    _shot(page, "network-informant-form-390")
    page.click("button.primary")
    page.wait_for_url("**/p/home")
    body = page.inner_text("main")
    assert "已报送" in body and "待甄别" in body and "现场照片.png" in body
    _shot(page, "network-informant-sent-390")
    with app.app_context():
        s = db.session.scalar(select(Suggestion))
        assert s.unit.code == "U01" and s.file.size == len(PNG)
    # the empty form again: a clear message naming the field, nothing stored
    page.select_option("#unit_id", label="市民政局")
    page.fill("#text", " ")
    page.evaluate("document.querySelector('#text').removeAttribute('required')")
    page.click("button.primary")
    assert "具体内容：必填" in page.inner_text("main")
    _shot(page, "network-informant-error-390")


def test_liaison_rectification_with_a_file(app, net, live_server, page, tmp_path):
    """Can a unit's liaison send the rectification report with a file from a 390 px screen?"""
    with app.app_context():
        period = db.session.scalar(select(Period))
        s = network.submit_suggestion(
            period,
            db.session.get(Participant, net.people["I1"]),
            kind="report",
            unit_id=net.units["U01"],
            text="窗口无人",
        )
        network.screen(s, "office", valid=True, note=None)
        problem = network.to_problem(
            s, "office", ProblemInput(unit_id=net.units["U01"], title="窗口午休无人值守", category="问题整改")
        )
        ledger.push(problem, "office")
        db.session.commit()
        pid = problem.id
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(PDF)
    page.goto(f"{live_server}/office/login")
    page.fill("input[name=username]", "liaison1")
    page.fill("input[name=password]", "correct-horse-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server}/office/ledger/unit/{pid}/report")
    assert "王信息" not in page.inner_text("body")
    page.fill("#rect_note", "已实行午间轮班值守，并在窗口公示值班表。")
    page.set_input_files("#rect_files", str(report))
    _shot(page, "network-liaison-rectify-390")
    page.click("form.rectify button.primary")
    page.wait_for_load_state()
    body = page.inner_text("main")
    assert "整改情况已报送" in body and "整改报告.pdf" in body
    _shot(page, "network-liaison-rectified-390")
