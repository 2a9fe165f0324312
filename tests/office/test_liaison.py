"""The unit liaison's area: its own unit only — check points, pushed problems, cases, and once published its own
result page and report PDF; nothing of another unit."""

from datetime import date

import pytest

from assessment.extensions import db
from assessment.models import Period, Unit
from tests.office.unit_city import PW, make_city, publish_with_reduction


@pytest.fixture
def city(app, make_user):
    make_city(app, make_user)


def _problem(app, unit_code, title):
    from assessment.services import ledger

    with app.app_context():
        period = db.session.execute(db.select(Period).filter_by(name="2026")).scalar_one()
        unit = db.session.execute(db.select(Unit).filter_by(code=unit_code)).scalar_one()
        problem = ledger.file_problem(
            period,
            ledger.ProblemInput(unit_id=unit.id, title=title, found_on=date(2026, 3, 1), responsible="张三"),
            "op",
        )
        ledger.push(problem, "op")
        db.session.commit()
        return problem.id


def test_liaison_lands_on_its_own_unit(app, client, auth, city):
    """Does a liaison land on its own unit's page, which shows its unit and not another's?"""
    landing = auth.login("li1", PW).headers["Location"]
    assert client.get(landing).headers["Location"].endswith("/office/unit")
    page = client.get("/office/unit").get_data(as_text=True)
    assert "市民政局" in page and "市档案馆" not in page
    assert "尚未发布" in page


def test_liaison_sees_only_its_units_pushed_problems(app, client, auth, city):
    """Are only the problems pushed to the liaison's unit listed, with the link to report rectification?"""
    _problem(app, "U01", "窗口服务流程不规范")
    _problem(app, "U02", "档案库房温湿度超标")
    auth.login("li1", PW)
    page = client.get("/office/unit").get_data(as_text=True)
    assert "窗口服务流程不规范" in page and "档案库房温湿度超标" not in page
    assert "报送整改情况" in page


def test_result_and_pdf_only_once_published_and_only_own(app, client, auth, city):
    """Are the unit's result page and PDF refused before publishing, then served for its own unit only?"""
    auth.login("li1", PW)
    assert client.get("/office/unit/result?period=2026").status_code == 404
    assert client.get("/office/unit/report.pdf?period=2026").status_code == 404
    publish_with_reduction(app, "U01", 2)
    page = client.get("/office/unit/result?period=2026").get_data(as_text=True)
    assert "市民政局" in page and "55.00" in page
    pdf = client.get("/office/unit/report.pdf?period=2026")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    auth.login("li2", PW)  # U02 has no row in the published result
    assert client.get("/office/unit/result?period=2026").status_code == 404
    assert client.get("/office/unit/report.pdf?period=2026").status_code == 404
    assert "市民政局" not in client.get("/office/unit?period=2026").get_data(as_text=True)


def test_office_pages_stay_closed_to_liaisons(app, client, auth, city):
    """Is a liaison still kept out of the office's results and units pages?"""
    publish_with_reduction(app, "U01", 2)
    auth.login("li1", PW)
    assert client.get("/office/periods/2026/results").status_code == 403
    assert client.get("/office/units").status_code == 403
