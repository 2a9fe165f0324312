"""Progress figures, the dashboard, and the reminder list (console download and `assessment reminders`)."""

import csv
import io
import re

from assessment.models import Period, RaterGroup
from assessment.services import progress as progress_service


def _period(name="2026"):
    from assessment.extensions import db

    return db.session.execute(db.select(Period).filter_by(name=name)).scalar_one()


def test_progress_figures_of_the_small_city(app, city):
    """Are assigned / opened / submitted counted right by town × group, instrument and unit?"""
    with app.app_context():
        figures = progress_service.progress(_period())
    t = figures.total
    assert (t.assigned, t.opened, t.submitted) == (15, 10, 8)
    towns = {town["code"]: town for town in figures.towns}
    assert list(towns) == ["T1", "T2", ""]  # raters without a town last
    t1 = towns["T1"]["cells"][RaterGroup.GRASSROOTS]
    assert (t1.assigned, t1.opened, t1.submitted) == (6, 5, 4)
    t2 = towns["T2"]["cells"][RaterGroup.GRASSROOTS]
    assert (t2.assigned, t2.opened, t2.submitted) == (3, 0, 0)
    none = towns[""]["cells"]
    assert (none[RaterGroup.LEADER].assigned, none[RaterGroup.LEADER].submitted) == (3, 3)
    dept = none[RaterGroup.DEPARTMENT]
    assert (dept.assigned, dept.opened, dept.submitted) == (3, 2, 1)
    assert figures.groups == [RaterGroup.GRASSROOTS, RaterGroup.LEADER, RaterGroup.DEPARTMENT]
    by_instrument = {i["key"]: i["tally"] for i in figures.instruments}
    assert [(k, v.assigned, v.opened, v.submitted) for k, v in by_instrument.items()] == [
        ("grassroots", 9, 5, 4),
        ("leader", 3, 3, 3),
        ("peer", 2, 2, 1),
        ("self", 1, 0, 0),
    ]
    assert [(u["code"], u["tally"].assigned, u["tally"].submitted) for u in figures.units] == [
        ("U03", 5, 2),
        ("U01", 5, 3),
        ("U02", 5, 3),
    ]
    assert (figures.raters, figures.raters_done) == (5, 2)
    assert abs(t.rate - 8 / 15) < 1e-12


def test_progress_of_a_period_without_assignments(app, city):
    """Does an empty period give zero counts and no rate rather than a division by zero?"""
    from assessment.extensions import db
    from assessment.services.periods import create_period

    with app.app_context():
        period = create_period("2027", actor="test")
        db.session.commit()
        figures = progress_service.progress(period)
    assert figures.total.assigned == 0 and figures.total.rate is None and figures.towns == []


def test_reminder_rows(app, city):
    """Does the reminder list hold exactly the active raters who have not submitted everything, in order?"""
    with app.app_context():
        rows = progress_service.reminder_rows(_period())
    assert [(r["rater_code"], r["assigned"], r["submitted"]) for r in rows] == [
        ("G2", 3, 1),
        ("G3", 3, 0),
        ("D1", 3, 1),
    ]
    assert rows[0]["town_code"] == "T1" and rows[0]["phone"] == "13800000002"
    assert rows[2]["town_code"] == "" and rows[2]["group"] is RaterGroup.DEPARTMENT


def _csv(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_reminders_command(runner, city, tmp_path):
    """Does `assessment reminders` write the CSV of interfaces.md (BOM, columns, one row per rater)?"""
    out = tmp_path / "reminders.csv"
    result = runner.invoke(args=["reminders", "--period", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _csv(out.read_bytes())
    assert rows[0] == ["rater_code", "name", "group", "town_code", "phone", "assigned", "submitted"]
    assert rows[1:] == [
        ["G2", "李建国", "grassroots", "T1", "13800000002", "3", "1"],
        ["G3", "王海燕", "grassroots", "T2", "13800000003", "3", "0"],
        ["D1", "周科长", "department", "", "0536-1234567", "3", "1"],
    ]
    assert "3" in result.output


def test_reminders_command_unknown_period(runner, city, tmp_path):
    """Does an unknown period fail with a clear message and write no file?"""
    out = tmp_path / "r.csv"
    result = runner.invoke(args=["reminders", "--period", "1999", "--out", str(out)])
    assert result.exit_code != 0 and "1999" in result.output
    assert not out.exists()


def test_reminders_download_roles(city, login_as):
    """May operators download the reminder list (names and phones) while viewers may not?"""
    client = login_as("viewer")
    assert client.get("/office/surveys/2026/reminders.csv").status_code == 403
    client.post("/office/logout")
    client = login_as("operator")
    response = client.get("/office/surveys/2026/reminders.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = _csv(response.data)
    assert [r[0] for r in rows[1:]] == ["G2", "G3", "D1"]


def test_dashboard_shows_the_figures(city, login_as):
    """Does a viewer see the dashboard with the rates, the town × group table and the SVG charts?"""
    client = login_as("viewer")
    page = client.get("/office/surveys/2026/progress").get_data(as_text=True)
    assert '<div class="n">53.3%</div><div class="l">问卷提交率（8 / 15）' in page
    assert '<div class="n">2 / 5</div><div class="l">全部提交的评价人' in page
    assert "4 / 6（66.7%）" in page  # T1 grassroots
    assert "0 / 3（0.0%）" in page  # T2 grassroots
    assert "1 / 3（33.3%）" in page  # departments
    assert page.count("<svg") == 2 and 'class="bar ' in page
    # The unit table, lowest rate first: 市档案馆 (U03) 5 assigned, 3 opened, 2 submitted.
    assert re.search(
        r"<td>市档案馆</td><td class=\"num\">5</td><td class=\"num\">3</td>\s*"
        r"<td class=\"num\">2</td>",
        page,
    )
    assert page.index("市档案馆") < page.index("市民政局</td><td class")
    assert "reminders.csv" not in page  # viewers get no reminder download link
    assert "张晓红" not in page  # no rater is named on the dashboard


def test_dashboard_unknown_period(city, login_as):
    """Is an unknown period a 404, not a 500?"""
    assert login_as("viewer").get("/office/surveys/1999/progress").status_code == 404


def test_dashboard_requires_sign_in(client, city):
    """Does the dashboard send a stranger to the sign-in page?"""
    response = client.get("/office/surveys/2026/progress")
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]
